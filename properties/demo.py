"""Demo listings for `make run` (idempotent: found by title, refreshed in place)."""

import io
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from properties.models import Amenity, AvailabilityBlock, Photo, Property, SeasonalRate, StayType

DEMO = [
    {
        "title": "Sunlit loft in Alfama",
        "city": "Lisbon", "country": "PT", "latitude": "38.711500", "longitude": "-9.130000",
        "timezone": "Europe/Lisbon", "property_type": "apartment", "max_guests": 3,
        "instant_book": True, "cancellation_policy": "flexible",
        "floor_nightly_price": "70.00", "auto_accept_nightly_price": "85.00",
        "stay_types": [{"kind": "standard", "nightly_price": "95.00"}],
        "amenities": ["wifi", "kitchen", "workspace", "sea_view"],
        "colors": [(235, 160, 90), (90, 140, 200), (240, 220, 180)],
    },
    {
        "title": "Garden guesthouse with breakfast",
        "city": "Porto", "country": "PT", "latitude": "41.149600", "longitude": "-8.611000",
        "timezone": "Europe/Lisbon", "property_type": "guesthouse", "max_guests": 4,
        "instant_book": False, "cancellation_policy": "moderate",
        "floor_nightly_price": "60.00", "auto_accept_nightly_price": "100.00",
        "stay_types": [
            {"kind": "standard", "nightly_price": "110.00"},
            {"kind": "with_meals", "nightly_price": "110.00", "breakfast_price": "9.00",
             "lunch_price": None, "dinner_price": "18.00"},
        ],
        "amenities": ["wifi", "garden", "parking", "bbq"],
        "colors": [(110, 170, 100), (200, 200, 120), (160, 110, 80)],
    },
    {
        "title": "Quiet room for long stays",
        "city": "Madrid", "country": "ES", "latitude": "40.416800", "longitude": "-3.703800",
        "timezone": "Europe/Madrid", "property_type": "room", "max_guests": 1,
        "instant_book": True, "cancellation_policy": "strict", "min_nights": 28,
        "stay_types": [{"kind": "paying_guest", "monthly_price": "900.00"}],
        "amenities": ["wifi", "washer", "workspace"],
        "colors": [(180, 180, 200), (120, 120, 160), (220, 210, 200)],
    },
]  # fmt: skip


def _image(color, label: str) -> ContentFile:
    image = Image.new("RGB", (960, 640), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 420, 920, 600), fill=(255, 255, 255))
    draw.text((70, 490), label, fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return ContentFile(buffer.getvalue(), name="demo.jpg")


def seed_properties(stdout, users: dict) -> None:
    host = users["host@parley.local"]
    today = timezone.now().date()
    for spec in DEMO:
        spec = dict(spec)
        stay_types, amenities, colors = (
            spec.pop("stay_types"),
            spec.pop("amenities"),
            spec.pop("colors"),
        )
        fields = {
            **spec,
            "description": f"{spec['title']}: a Parley demo listing in {spec['city']}.",
            "address": f"1 Demo Street, {spec['city']}",
            "currency": "EUR",
            "cleaning_fee": Decimal("25.00"),
            "weekly_discount_percent": Decimal("10"),
            "status": Property.Status.PUBLISHED,
            "published_at": timezone.now(),
        }
        for key in ("latitude", "longitude", "floor_nightly_price", "auto_accept_nightly_price"):
            if key in fields:
                fields[key] = Decimal(fields[key])
        prop, _ = Property.objects.update_or_create(host=host, title=spec["title"], defaults=fields)
        prop.stay_types.all().delete()
        for stay in stay_types:
            StayType.objects.create(
                property=prop,
                **{
                    k: Decimal(v) if isinstance(v, str) and k != "kind" else v
                    for k, v in stay.items()
                },
            )
        prop.base_nightly_price = min(
            (s.nightly_price or s.monthly_price / 30) for s in prop.stay_types.all()
        ).quantize(Decimal("0.01"))
        prop.save(update_fields=["base_nightly_price"])
        prop.amenities.set(Amenity.objects.filter(code__in=amenities))
        if prop.photos.count() < 3:
            prop.photos.all().delete()
            for position, color in enumerate(colors):
                Photo.objects.create(
                    property=prop,
                    image=_image(color, f"{prop.title} #{position + 1}"),
                    position=position,
                    is_cover=position == 0,
                )
        prop.blocks.filter(note="Demo: owner's stay").delete()
        AvailabilityBlock.objects.create(
            property=prop,
            start=today + timedelta(days=40),
            end=today + timedelta(days=44),
            note="Demo: owner's stay",
        )
        prop.rates.all().delete()
        if prop.stay_types.filter(nightly_price__isnull=False).exists():
            SeasonalRate.objects.create(
                property=prop,
                start=today + timedelta(days=60),
                end=today + timedelta(days=75),
                nightly_price=prop.base_nightly_price * Decimal("1.25"),
            )
        stdout.write(f"demo listing #{prop.pk}: {prop.title} ({prop.city})")
