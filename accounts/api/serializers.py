from django.conf import settings
from rest_framework import serializers

from accounts.models import IdentityDocument, User
from core.api.fields import MultiLineCharField, SingleLineCharField
from core.images import ImageUploadField, clean_image_upload
from notifications.preferences import EmailPreferencesField, email_preferences


class UserSerializer(serializers.ModelSerializer):
    avatar = serializers.SerializerMethodField()
    email_preferences = serializers.SerializerMethodField()
    email_verified = serializers.BooleanField(source="is_email_verified", read_only=True)
    identity_verified = serializers.BooleanField(source="is_identity_verified", read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "avatar",
            "bio",
            "languages",
            "is_host",
            "is_superhost",
            "email_verified",
            "pending_email",
            "identity_verified",
            "date_joined",
            "email_preferences",
        )
        read_only_fields = fields

    def get_avatar(self, user: User) -> str | None:
        return user.avatar.url if user.avatar else None

    def get_email_preferences(self, user: User) -> dict[str, bool]:
        """Each kind of email, on or off (payment emails always on)."""
        return email_preferences(user)


class ProfileUpdateSerializer(serializers.Serializer):
    first_name = SingleLineCharField(max_length=150, required=False, allow_blank=True)
    last_name = SingleLineCharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.RegexField(r"^\+?[0-9 ()-]{5,31}$", required=False, allow_blank=True)
    bio = MultiLineCharField(max_length=2000, required=False, allow_blank=True)
    languages = serializers.ListField(
        child=SingleLineCharField(max_length=35), max_length=20, required=False
    )
    avatar = ImageUploadField(required=False)
    # Changing the address: a link goes to the new one, which is switched to once confirmed
    # (``pending_email`` meanwhile); the current password is required with it.
    email = serializers.EmailField(max_length=254, required=False)
    password = serializers.CharField(
        write_only=True, max_length=128, trim_whitespace=False, required=False
    )
    # ``{kind: bool}``: which emails to get (notifications.preferences)
    email_preferences = EmailPreferencesField(required=False)

    def validate_avatar(self, value):
        return clean_image_upload(value, max_bytes=settings.AVATAR_MAX_BYTES)[0]

    def validate(self, attrs):
        if "email" in attrs and not attrs.get("password"):
            raise serializers.ValidationError(
                {"password": "Your current password is required to change the email address."},
                code="required",
            )
        return attrs


class ProfileJSONUpdateSerializer(ProfileUpdateSerializer):
    """The profile as a JSON body: every field but ``avatar`` (a file, sent as multipart)."""

    avatar = None


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    first_name = SingleLineCharField(max_length=150, required=False, allow_blank=True)
    last_name = SingleLineCharField(max_length=150, required=False, allow_blank=True)


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class TokenRefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(required=False, max_length=2048)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserSerializer(required=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1024)


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class WsTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()


class IdentityDocumentSerializer(serializers.ModelSerializer):
    image = ImageUploadField(write_only=True)

    class Meta:
        model = IdentityDocument
        fields = ("id", "kind", "number", "image", "status", "rejection_reason", "created_at")
        read_only_fields = ("id", "status", "rejection_reason", "created_at")

    def validate_number(self, value: str) -> str:
        value = value.strip()
        if not value.replace("-", "").replace(" ", "").isalnum():
            raise serializers.ValidationError("Use letters, digits, spaces and dashes only.")
        return value

    def validate_image(self, value):
        return clean_image_upload(value, max_bytes=settings.DOCUMENT_MAX_BYTES)[0]
