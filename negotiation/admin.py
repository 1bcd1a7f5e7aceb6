"""The user admin, registered here because deactivating a user ends what they have
running in every app (``negotiation.lifecycle.user_deactivate``); its fields are
``accounts.admin.UserAdmin``'s."""

from django.contrib import admin, messages

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from negotiation import lifecycle


@admin.register(User)
class UserAdmin(AccountsUserAdmin):
    actions = ("deactivate",)

    def save_model(self, request, obj, form, change):
        """Unticking "active" deactivates through the service: the user's open negotiations
        end (the other party told), sessions and socket tickets are revoked."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True  # the service makes the change, with its consequences
        super().save_model(request, obj, form, change)
        if deactivating:
            lifecycle.user_deactivate(user=obj)
            obj.is_active = False

    @admin.action(description="Deactivate selected users (ends their negotiations and sessions)")
    def deactivate(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True).order_by("pk"):
            lifecycle.user_deactivate(user=user)
            count += 1
        self.message_user(request, f"{count} deactivated.", messages.SUCCESS)
