"""A listing's photos: as shown, uploaded and reordered."""

from django.conf import settings
from rest_framework import serializers

from core.api.fields import SingleLineCharField
from core.images import ImageUploadField, clean_image_upload
from properties.api.fields import image_urls
from properties.models import Photo

IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoSerializer(serializers.ModelSerializer):
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ("id", "urls", "caption", "position", "is_cover")

    def get_urls(self, photo) -> dict:
        return image_urls(photo.image)


class PhotoUploadSerializer(serializers.Serializer):
    image = ImageUploadField()
    caption = SingleLineCharField(max_length=200, required=False, allow_blank=True)

    def validate_image(self, value):
        value, image_format = clean_image_upload(value, max_bytes=settings.PHOTO_MAX_BYTES)
        # Stored under a name of our choosing: the extension follows the content.
        value.name = f"photo.{IMAGE_EXTENSIONS[image_format]}"
        return value


class PhotoOrderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), max_length=30
    )
