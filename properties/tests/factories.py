"""Factories for listings; ``published_property()`` gives a bookable listing at once."""

import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone as dj_timezone
from PIL import Image

from accounts.models import User
from properties.models import Photo, Property, StayType


class HostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"host{n}@example.com")
    first_name = "Hana"
    is_host = True
    email_verified_at = factory.LazyFunction(dj_timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class GuestFactory(HostFactory):
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    first_name = "Gabriel"
    is_host = False


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Property

    host = factory.SubFactory(HostFactory)
    status = Property.Status.PUBLISHED
    title = factory.Sequence(lambda n: f"Sunny flat {n}")
    description = "A bright flat near the old town, with a balcony and fast Wi-Fi."
    address = "1 Harbour Street"
    city = "Lisbon"
    country = "PT"
    latitude = Decimal("38.722252")
    longitude = Decimal("-9.139337")
    timezone = "Europe/Lisbon"
    max_guests = 4
    currency = "EUR"
    cleaning_fee = Decimal("30.00")
    base_nightly_price = Decimal("100.00")
    cancellation_policy = "moderate"
    published_at = factory.LazyFunction(dj_timezone.now)


def png_bytes(size=(64, 48), color=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name="photo.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


def published_property(*, nightly="100.00", kinds=("standard",), photos=0, **fields) -> Property:
    prop = PropertyFactory(base_nightly_price=Decimal(nightly), **fields)
    for kind in kinds:
        if kind == "paying_guest":
            StayType.objects.create(property=prop, kind=kind, monthly_price=Decimal("2400.00"))
        elif kind == "with_meals":
            StayType.objects.create(
                property=prop,
                kind=kind,
                nightly_price=Decimal(nightly),
                breakfast_price=Decimal("8.00"),
                lunch_price=Decimal("12.00"),
                dinner_price=Decimal("15.00"),
            )
        else:
            StayType.objects.create(property=prop, kind=kind, nightly_price=Decimal(nightly))
    for position in range(photos):
        Photo.objects.create(
            property=prop, image=png_upload(), position=position, is_cover=position == 0
        )
    return prop
