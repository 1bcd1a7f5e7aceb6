"""Uploads carry no hidden metadata (issue 18): a JPEG with GPS position, camera EXIF, XMP
and a comment, uploaded as a listing photo, an avatar and an identity document, is stored
turned upright and without any of it."""

import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MARKERS = [b"SpyCam 3000", b"Jane Roe", b"secret-xmp-marker", b"secret-comment-marker"]


def gps_jpeg() -> bytes:
    """40 x 20 pixels stored sideways (orientation 6: shown rotated 90 degrees clockwise)."""
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    for x in range(10):  # a marker in the top-left corner of the stored pixels
        for y in range(5):
            image.putpixel((x, y), (0, 0, 255))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "SpyCam 3000"  # camera make
    exif[0x013B] = "Jane Roe"  # artist
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (38.0, 42.0, 12.5), 3: "W", 4: (9.0, 8.0, 30.0)})
    buffer = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp-marker</x:xmpmeta>'
    image.save(buffer, "JPEG", exif=exif.tobytes(), xmp=xmp, comment=b"secret-comment-marker")
    data = buffer.getvalue()
    assert all(marker in data for marker in MARKERS)  # the upload does carry them
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    return data


def _upload(name="holiday.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, gps_jpeg(), content_type="image/jpeg")


def _assert_clean(stored: bytes) -> None:
    for marker in MARKERS:
        assert marker not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert not image.getexif() and "exif" not in image.info
    assert "xmp" not in image.info and "comment" not in image.info
    assert image.size == (20, 40)  # orientation applied before the EXIF went
    red, _green, blue = image.convert("RGB").getpixel((17, 2))  # the marker, now top-right
    assert blue > 150 and red < 100


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_listing_photo_is_stored_without_metadata():
    prop = PropertyFactory(status=Property.Status.DRAFT)

    response = _client(prop.host).post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": _upload()}, format="multipart"
    )

    assert response.status_code == 201, response.content
    with prop.photos.get().image.open("rb") as stored:
        _assert_clean(stored.read())


def test_avatar_is_stored_without_metadata():
    user = UserFactory()

    response = _client(user).patch("/api/v1/auth/me/", {"avatar": _upload()}, format="multipart")

    assert response.status_code == 200, response.content
    with User.objects.get(pk=user.pk).avatar.open("rb") as stored:
        _assert_clean(stored.read())


def test_identity_document_is_stored_without_metadata():
    user = UserFactory()
    body = {"kind": "passport", "number": "X1234567", "image": _upload()}

    response = _client(user).post("/api/v1/auth/me/documents/", body, format="multipart")

    assert response.status_code == 201, response.content
    with user.documents.get().image.open("rb") as stored:
        _assert_clean(stored.read())


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_lose_their_metadata_too(image_format):
    from PIL import PngImagePlugin

    from core.images import strip_metadata

    image = Image.new("RGBA", (8, 6), (1, 2, 3, 128))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam 3000"
    buffer = io.BytesIO()
    extra = {"exif": exif.tobytes()}
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Author", "Jane Roe")
        extra["pnginfo"] = info
    image.save(buffer, image_format, **extra)
    buffer.name = f"x.{image_format.lower()}"

    cleaned = strip_metadata(buffer, image_format).read()

    assert b"SpyCam 3000" not in cleaned and b"Jane Roe" not in cleaned
    assert Image.open(io.BytesIO(cleaned)).size == (8, 6)
