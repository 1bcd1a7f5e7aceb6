"""A listing's photos."""

import posixpath
import uuid

from django.db import models
from django.db.models import Q

from properties.models.listing import Property

PHOTO_EXTENSIONS = (".jpg", ".png", ".webp")


def photo_upload_to(instance: "Photo", filename: str) -> str:
    """A random name; the extension only if it is one of ours (set from the content)."""
    extension = posixpath.splitext(filename)[1].lower()
    suffix = extension if extension in PHOTO_EXTENSIONS else ""
    return f"properties/{instance.property_id}/{uuid.uuid4().hex}{suffix}"


class Photo(models.Model):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_to)
    caption = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_cover = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["property", "-is_cover", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["property"], condition=Q(is_cover=True), name="photo_one_cover"
            ),
        ]

    def __str__(self) -> str:
        return f"Photo {self.pk} of {self.property_id}"
