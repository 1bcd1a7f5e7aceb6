"""Seed the amenity catalogue (regular and standout amenities)."""

from django.db import migrations

REGULAR = [
    ("wifi", "Wi-Fi"), ("kitchen", "Kitchen"), ("washer", "Washer"), ("dryer", "Dryer"),
    ("air_conditioning", "Air conditioning"), ("heating", "Heating"),
    ("workspace", "Dedicated workspace"), ("tv", "TV"), ("hair_dryer", "Hair dryer"),
    ("iron", "Iron"), ("parking", "Free parking"), ("crib", "Crib"),
    ("smoke_alarm", "Smoke alarm"), ("first_aid_kit", "First aid kit"),
    ("self_check_in", "Self check-in"), ("pets_allowed", "Pets allowed"),
]  # fmt: skip
STANDOUT = [
    ("pool", "Pool"), ("hot_tub", "Hot tub"), ("sea_view", "Sea view"),
    ("fireplace", "Indoor fireplace"), ("bbq", "BBQ grill"), ("gym", "Gym"),
    ("ev_charger", "EV charger"), ("garden", "Garden"), ("beach_access", "Beach access"),
]  # fmt: skip


def seed(apps, schema_editor):
    Amenity = apps.get_model("properties", "Amenity")
    for standout, rows in ((False, REGULAR), (True, STANDOUT)):
        for code, name in rows:
            Amenity.objects.update_or_create(
                code=code, defaults={"name": name, "standout": standout}
            )


def unseed(apps, schema_editor):
    Amenity = apps.get_model("properties", "Amenity")
    Amenity.objects.filter(code__in=[code for code, _ in REGULAR + STANDOUT]).delete()


class Migration(migrations.Migration):
    dependencies = [("properties", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
