"""Idempotent demo data: run it any number of times, the result is the same."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User

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

SEEDERS: list = []  # later apps append callables taking (stdout, users_by_email)


class Command(BaseCommand):
    help = "Create or refresh the demo users (and, as apps add them, demo data)."

    @transaction.atomic
    def handle(self, *args, **options):
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
        for seed in SEEDERS:
            seed(self.stdout, users)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
