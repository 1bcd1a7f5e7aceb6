from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import closing, services
from accounts.models import IdentityDocument, User


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
    actions = ("deactivate",)

    def save_model(self, request, obj, form, change):
        """Unticking "active" deactivates through the service: the user's open negotiations
        end (the other party told), sessions and socket tickets are revoked."""
        deactivating = change and "is_active" in form.changed_data and not obj.is_active
        if deactivating:
            obj.is_active = True  # the service makes the change, with its consequences
        super().save_model(request, obj, form, change)
        if deactivating:
            closing.user_deactivate(user=obj)
            obj.is_active = False

    @admin.action(description="Deactivate selected users (ends their negotiations and sessions)")
    def deactivate(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True).order_by("pk"):
            closing.user_deactivate(user=user)
            count += 1
        self.message_user(request, f"{count} deactivated.", messages.SUCCESS)


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
