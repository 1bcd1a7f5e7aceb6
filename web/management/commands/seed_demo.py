"""``manage.py seed_demo``: idempotent demo data for ``make run``; run it any number of
times, the result is the same.

It lives in ``web``, on top of the stack, because it fills several apps: the demo users
here, then each app's own demo data (``properties.demo``), in one transaction.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from properties.demo import seed_properties

DEMO_USERS = [
    {
        "email": "host@parley.local",
        "password": "parley-demo-host",
        "first_name": "Hana",
        "last_name": "Host",
        "is_host": True,
    },
    {
        "email": "guest@parley.local",
        "password": "parley-demo-guest",
        "first_name": "Gabriel",
        "last_name": "Guest",
        "is_host": False,
    },
]


class Command(BaseCommand):
    help = "Create or refresh the demo users and the demo listings."

    @transaction.atomic
    def handle(self, *args, **options):
        users = self._seed_users()
        seed_properties(self.stdout, users)
        self.stdout.write(self.style.SUCCESS("demo data ready"))

    def _seed_users(self) -> dict[str, User]:
        users = {}
        for spec in DEMO_USERS:
            spec = dict(spec)
            password = spec.pop("password")
            user, _created = User.objects.update_or_create(
                email=spec["email"],
                defaults={**spec, "email_verified_at": timezone.now(), "is_active": True},
            )
            user.set_password(password)
            user.save(update_fields=["password"])
            users[user.email] = user
            self.stdout.write(f"demo user {user.email} / password {password}")
        return users
