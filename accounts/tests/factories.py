"""Factories and upload helpers for accounts tests (and any test that needs a user)."""

import io
import struct
import zlib

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import IdentityDocument, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    """A verified guest whose password is ``PASSWORD``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    class Params:
        unverified = factory.Trait(email_verified_at=None)
        host = factory.Trait(is_host=True, became_host_at=factory.LazyFunction(timezone.now))

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def png_bytes(size: tuple[int, int] = (8, 6), color=(20, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "picture.png", size: tuple[int, int] = (8, 6)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(size), content_type="image/png")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def bomb_png_bytes(width: int, height: int) -> bytes:
    """A well-formed PNG that declares ``width`` x ``height`` pixels but carries a few bytes.

    Decoding it would allocate width*height bytes: the shape of a decompression bomb.
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


class IdentityDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityDocument

    user = factory.SubFactory(UserFactory)
    kind = IdentityDocument.Kind.PASSPORT
    number = factory.Sequence(lambda n: f"P{n:07d}")
    image = factory.LazyFunction(lambda: png_upload("scan.png"))
