"""Validation of uploaded images by content, not by name, and what is stored of them.

Pillow opens and verifies the file; only JPEG, PNG and WebP are accepted, with a
byte and pixel budget (decompression bombs are refused before decoding). What is
stored is not the upload but its pixels re-encoded by ``strip_metadata``: the EXIF
orientation applied first, then no EXIF (GPS position, camera, owner), XMP, IPTC or
text chunks kept.
"""

import io
import warnings

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError
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


def strip_metadata(upload, image_format: str) -> ContentFile:
    """The image in ``upload`` (already validated) as a new file of the same format with
    its orientation applied and no metadata but the colour profile."""
    upload.seek(0)
    with Image.open(upload) as original:
        original.load()
        image = ImageOps.exif_transpose(original)
    info, image.info = image.info, {}  # Pillow would write a comment or XMP found there
    image._exif = None  # nor EXIF cached by getexif()
    options: dict = {}
    if info.get("icc_profile"):
        options["icc_profile"] = info["icc_profile"]  # colours, not personal data
    if image_format == "JPEG":
        if image.mode not in {"RGB", "L", "CMYK"}:
            image = image.convert("RGB")
        options.update(quality=90, optimize=True)
    elif image_format == "PNG":
        if "transparency" in info:
            options["transparency"] = info["transparency"]
    elif image_format == "WEBP":
        options.update(quality=90)
    out = io.BytesIO()
    image.save(out, format=image_format, **options)  # no exif=, no pnginfo=: none written
    upload.seek(0)
    return ContentFile(out.getvalue(), name=getattr(upload, "name", None) or "image")


def clean_image_upload(upload, *, max_bytes: int) -> tuple[ContentFile, str]:
    """Validate ``upload`` and return what may be stored of it, with its format."""
    image_format = validate_image_upload(upload, max_bytes=max_bytes)
    return strip_metadata(upload, image_format), image_format


class ImageUploadField(serializers.FileField):
    """A file upload whose content ``core.images.validate_image_upload`` checks.

    DRF's ``ImageField`` would decode the file with Pillow first and answer a generic
    ``invalid_image`` for a decompression bomb; the validators below give the
    documented codes (``image_too_large``, ``file_too_large``, ...).
    """
