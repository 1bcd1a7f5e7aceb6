"""The search benchmark's dataset, generated with COPY and a fixed seed.

Default size: 100,000 published properties over 200 cities (a Zipf-like spread: the
biggest city has ~10,000 listings, the smallest ~150), each with a standard stay type,
a cover photo row and 2-8 amenities; 1,000,000 bookings in holding states (10 per
property, back to back with gaps, never overlapping: the exclusion constraint
``booking_no_overlap`` is in place during the load and checks every row); a block on
one property in five; 20,000 hosts and 50,000 guests.

Idempotent: a row in ``bench_dataset`` records what was generated; a second run at the
same size and seed skips generation. Another size truncates the data tables first.
"""

import random
import time
from datetime import UTC, datetime

from bench.common import log
from bench.dataset_copy import copy_rows, reset_sequence
from bench.dataset_rows import (
    BOOKING_COLUMNS,
    PROPERTY_COLUMNS,
    USER_COLUMNS,
    allocate,
    amenity_rows,
    booking_rows,
    make_cities,
    property_rows,
    user_rows,
)

SEED = 20_240_611
HOSTS_PER_PROPERTY = 0.2  # 5 listings per host on average
GUESTS = 50_000


# --- marker ------------------------------------------------------------------------------


def _marker(cursor) -> tuple | None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_dataset (name text PRIMARY KEY, properties int, "
        "bookings int, cities int, seed int, generated_at timestamptz)"
    )
    cursor.execute(
        "SELECT properties, bookings, cities, seed, generated_at FROM bench_dataset "
        "WHERE name = 'search'"
    )
    return cursor.fetchone()


def ensure_dataset(*, properties: int, bookings: int, cities: int, seed: int = SEED) -> dict:
    """Generate unless the database already holds this dataset. Returns its description."""
    from django.db import connection

    with connection.cursor() as cursor:
        existing = _marker(cursor)
    wanted = (properties, bookings, cities, seed)
    if existing and tuple(existing[:4]) == wanted:
        log(
            f"dataset already generated at {existing[4]:%Y-%m-%d %H:%M} UTC "
            f"({properties:,} properties, {bookings:,} bookings): skipping generation"
        )
        return _describe(cities, seed)
    if existing:
        log(f"dataset of another size {existing[:4]}: truncating and regenerating")
    _generate(properties=properties, bookings=bookings, city_count=cities, seed=seed)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset WHERE name = 'search'")
        cursor.execute(
            "INSERT INTO bench_dataset VALUES ('search', %s, %s, %s, %s, now())", list(wanted)
        )
    return _describe(cities, seed)


def _describe(city_count: int, seed: int) -> dict:
    """The cities (names, centres, shares) as the generator made them, for the queries."""
    rng = random.Random(seed)
    return {"cities": make_cities(rng, city_count)}


# --- generation ----------------------------------------------------------------------------


def _generate(*, properties: int, bookings: int, city_count: int, seed: int) -> None:
    from django.db import connection, transaction

    from accounts.models import User
    from bookings.models import Booking
    from properties.models import (
        Amenity,
        AvailabilityBlock,
        Photo,
        PriceSummary,
        Property,
        StayType,
    )

    rng = random.Random(seed)
    cities = make_cities(rng, city_count)
    per_city = allocate(properties, cities)
    now = datetime.now(UTC)
    today = now.date()
    hosts = max(1, int(properties * HOSTS_PER_PROPERTY))
    guests = GUESTS
    per_property = bookings // properties
    extra_bookings = bookings - per_property * properties
    amenity_ids = list(Amenity.objects.order_by("pk").values_list("pk", flat=True))
    started = time.monotonic()
    log(
        f"generating {properties:,} properties in {city_count} cities, {bookings:,} bookings, "
        f"{hosts:,} hosts, {guests:,} guests (seed {seed})"
    )

    with connection.cursor() as cursor:
        log("  truncating data tables")
        cursor.execute("TRUNCATE accounts_user RESTART IDENTITY CASCADE")

    with transaction.atomic():
        copy_rows(
            User,
            USER_COLUMNS,
            user_rows(rng, hosts=hosts, guests=guests, now=now),
            label="users",
            total=hosts + guests,
        )
        reset_sequence(User)

        info: list[tuple] = []  # (price, max_guests, cleaning_fee, policy) of each property
        copy_rows(
            Property,
            PROPERTY_COLUMNS,
            property_rows(rng, cities, per_city, hosts=hosts, now=now, info=info),
            label="properties",
            total=properties,
        )
        reset_sequence(Property)

        copy_rows(
            StayType,
            ["property_id", "kind", "nightly_price"],
            ((pid, "standard", info[pid - 1][0]) for pid in range(1, properties + 1)),
            label="stay types",
            total=properties,
        )
        copy_rows(
            Photo,
            ["property_id", "image", "position", "is_cover", "created_at"],
            (
                (pid, f"properties/{pid}/bench-cover.jpg", 0, True, now)
                for pid in range(1, properties + 1)
            ),
            label="cover photos",
            total=properties,
        )

        through = Property.amenities.through
        copy_rows(
            through,
            ["property_id", "amenity_id"],
            amenity_rows(rng, properties=properties, amenity_ids=amenity_ids),
            label="property amenities",
            total=properties * 5,
        )

        blocks: list[tuple] = []
        copy_rows(
            Booking,
            BOOKING_COLUMNS,
            booking_rows(
                rng,
                info,
                per_property=per_property,
                extra_bookings=extra_bookings,
                hosts=hosts,
                properties=properties,
                guests=guests,
                today=today,
                now=now,
                blocks=blocks,
            ),
            label="bookings",
            total=bookings,
        )
        reset_sequence(Booking)

        copy_rows(
            AvailabilityBlock,
            ["property_id", "start", "end", "note", "created_at"],
            ((pid, start, end, "owner stay", now) for pid, start, end in blocks),
            label="blocks",
            total=len(blocks),
        )

    log("  VACUUM ANALYZE (as autovacuum would after a bulk load)")
    with connection.cursor() as cursor:
        for model in (
            User,
            Property,
            StayType,
            PriceSummary,  # written by the stay types' trigger (properties migration 0012)
            Photo,
            Property.amenities.through,
            Booking,
            AvailabilityBlock,
        ):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    log(f"dataset generated in {time.monotonic() - started:.0f} s")
