"""Validation of uploaded images by content, not by name.

Pillow opens and verifies the file; only JPEG, PNG and WebP are accepted, with a
byte and pixel budget (decompression bombs are refused before decoding).
"""

import warnings

from django.conf import settings
from PIL import Image, UnidentifiedImageError
from rest_framework import serializers

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


def validate_image_upload(upload, *, max_bytes: int, max_pixels: int | None = None) -> str:
    """Raise ``serializers.ValidationError`` unless ``upload`` is a safe image.

    Returns the detected format (``JPEG``, ``PNG`` or ``WEBP``).
    """
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    if upload.size > max_bytes:
        raise serializers.ValidationError(
            f"The file is larger than {max_bytes // (1024 * 1024)} MB.", code="file_too_large"
        )
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if width * height > max_pixels:
                    raise serializers.ValidationError(
                        "The image has too many pixels.", code="image_too_large"
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise serializers.ValidationError(
            "The image has too many pixels.", code="image_too_large"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise serializers.ValidationError(
            "Upload a valid JPEG, PNG or WebP image.", code="invalid_image"
        ) from exc
    finally:
        upload.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise serializers.ValidationError(
            "Only JPEG, PNG and WebP images are accepted.", code="unsupported_image_type"
        )
    return image_format


class ImageUploadField(serializers.FileField):
    """A file upload whose content ``config.images.validate_image_upload`` checks.

    DRF's ``ImageField`` would decode the file with Pillow first and answer a generic
    ``invalid_image`` for a decompression bomb; the validators below give the
    documented codes (``image_too_large``, ``file_too_large``, ...).
    """
