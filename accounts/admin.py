from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts import services
from accounts.models import IdentityDocument, User


class IdentityDocumentInline(admin.TabularInline):
    model = IdentityDocument
    fk_name = "user"
    extra = 0
    fields = ("kind", "number", "image", "status", "reviewed_at")
    readonly_fields = ("reviewed_at",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("-date_joined",)
    list_display = ("email", "first_name", "last_name", "is_host", "is_superhost", "is_staff")
    list_filter = ("is_host", "is_superhost", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("date_joined", "last_login", "became_host_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "phone", "avatar", "bio", "languages")}),
        ("Roles", {"fields": ("is_host", "became_host_at", "is_superhost", "email_verified_at")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [IdentityDocumentInline]


@admin.register(IdentityDocument)
class IdentityDocumentAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "number", "status", "created_at", "reviewed_at")
    list_filter = ("status", "kind")
    search_fields = ("user__email", "number")
    readonly_fields = (
        "user",
        "kind",
        "number",
        "image",
        "created_at",
        "reviewed_at",
        "reviewed_by",
    )
    actions = ("approve", "reject")

    @admin.action(description="Mark selected documents as verified")
    def approve(self, request, queryset):
        for document in queryset:
            services.document_review(document=document, reviewer=request.user, approve=True)
        self.message_user(request, f"{queryset.count()} verified.", messages.SUCCESS)

    @admin.action(description="Reject selected documents")
    def reject(self, request, queryset):
        for document in queryset:
            services.document_review(
                document=document, reviewer=request.user, approve=False, reason="Rejected in review"
            )
        self.message_user(request, f"{queryset.count()} rejected.", messages.WARNING)
