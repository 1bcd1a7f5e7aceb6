from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import services
from accounts.models import IdentityDocument


class IdentityDocumentInline(admin.TabularInline):
    model = IdentityDocument
    fk_name = "user"
    extra = 0
    fields = ("kind", "number", "scan", "status", "reviewed_at")
    readonly_fields = ("scan", "reviewed_at")

    @admin.display(description="Image")
    def scan(self, document):
        return _scan_link(document)


def _scan_link(document) -> str:
    """The scan is private storage (no public URL): staff open it through the admin."""
    if not document.pk or not document.image:
        return "-"
    url = reverse("admin:accounts_identitydocument_image", args=[document.pk])
    return format_html('<a href="{}">Open the scan</a>', url)


class UserAdmin(BaseUserAdmin):
    """The user admin's fields. It is registered by ``negotiation.admin``, which adds
    deactivation: deactivating ends what the user has running in every app
    (``negotiation.lifecycle.user_deactivate``)."""

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
        "scan",
        "created_at",
        "reviewed_at",
        "reviewed_by",
    )
    actions = ("approve", "reject")

    @admin.display(description="Image")
    def scan(self, document):
        return _scan_link(document)

    def get_urls(self):
        view = self.admin_site.admin_view(self.image_view)
        name = "accounts_identitydocument_image"
        return [path("<int:pk>/image/", view, name=name), *super().get_urls()]

    def image_view(self, request, pk: int):
        """The scan itself, for staff who may view documents (the owner uses the API)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = get_object_or_404(IdentityDocument, pk=pk)
        response = FileResponse(document.image.open("rb"), content_type="application/octet-stream")
        response["Content-Disposition"] = "attachment"
        response["Cache-Control"] = "private, no-store"
        return response

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
