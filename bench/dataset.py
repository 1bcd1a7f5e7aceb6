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

import math
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.common import log

SEED = 20_240_611
HOSTS_PER_PROPERTY = 0.2  # 5 listings per host on average
GUESTS = 50_000
BLOCK_SHARE = 0.2

PROPERTY_TYPES = [
    ("apartment", 45),
    ("house", 20),
    ("room", 15),
    ("guesthouse", 6),
    ("villa", 5),
    ("cabin", 5),
    ("hostel", 4),
]
GUEST_CAPACITY = [(1, 5), (2, 30), (3, 10), (4, 25), (5, 6), (6, 12), (8, 8), (10, 4)]
NIGHTS = [(1, 8), (2, 18), (3, 20), (4, 16), (5, 12), (6, 7), (7, 10), (10, 4), (14, 5)]
COUNTRIES = ["FR", "ES", "IT", "PT", "DE", "GB", "US", "MX", "BR", "IN", "TH", "JP", "MA", "GR"]
ADJECTIVES = ["Sunny", "Quiet", "Cosy", "Bright", "Modern", "Charming", "Spacious", "Rustic"]
SYLLABLES = [
    "ma",
    "ri",
    "lo",
    "sa",
    "ven",
    "to",
    "ca",
    "del",
    "mon",
    "ta",
    "bel",
    "ro",
    "na",
    "por",
    "li",
    "san",
    "ga",
    "mi",
    "ber",
    "do",
    "ke",
    "vil",
    "za",
    "cor",
]


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def make_cities(rng: random.Random, count: int) -> list[dict]:
    names: set[str] = set()
    cities = []
    while len(cities) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        if name in names:
            continue
        names.add(name)
        cities.append(
            {
                "name": name,
                "country": rng.choice(COUNTRIES),
                "lat": rng.uniform(-40, 60),
                "lng": rng.uniform(-160, 160),
                "price": rng.uniform(50, 220),  # the city's median nightly price
            }
        )
    weights = [1 / (rank**0.8) for rank in range(1, count + 1)]
    total = sum(weights)
    for city, weight in zip(cities, weights, strict=True):
        city["share"] = weight / total
    return cities


def allocate(total: int, cities: list[dict]) -> list[int]:
    """Listings per city proportional to its share (largest remainder)."""
    raw = [total * city["share"] for city in cities]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


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


# --- COPY helpers --------------------------------------------------------------------------


def _defaults(model, given: list[str]) -> tuple[list[str], list]:
    """Columns the generator does not set, with the model's default for each."""
    from psycopg.types.json import Jsonb

    columns, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in given or f.primary_key:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = datetime.now(UTC)
        else:
            value = f.get_default()
        if isinstance(value, dict | list):
            value = Jsonb(value)
        columns.append(f.column)
        values.append(value)
    return columns, values


def _copy(model, columns: list[str], rows, *, label: str, total: int) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into the model's table; other columns
    take the model defaults."""
    from django.db import connection

    extra_columns, extra_values = _defaults(model, columns)
    extra = tuple(extra_values)
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in [*columns, *extra_columns])
    started = time.monotonic()
    step = max(total // 10, 1)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for n, row in enumerate(rows, 1):
                copy.write_row(row + extra)
                if n % step == 0:
                    log(f"  {label}: {n:,}/{total:,} ({time.monotonic() - started:.0f} s)")
    log(f"  {label}: {total:,} rows in {time.monotonic() - started:.1f} s")


def _reset_sequence(model) -> None:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 1))"  # noqa: E501, S608 - a model's own table
        cursor.execute(sql)


# --- generation ----------------------------------------------------------------------------


def _generate(*, properties: int, bookings: int, city_count: int, seed: int) -> None:
    from django.db import connection, transaction
    from psycopg.types.json import Jsonb

    from accounts.models import User
    from bookings.models import Booking
    from properties.models import Amenity, AvailabilityBlock, Photo, Property, StayType, fold_text

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
        # Users: hosts 1..hosts, guests after. Unusable passwords; guests verified.
        def users():
            for uid in range(1, hosts + guests + 1):
                is_host = uid <= hosts
                joined = now - timedelta(days=rng.uniform(30, 1500))
                yield (
                    uid,
                    f"{'host' if is_host else 'guest'}{uid}@bench.parley.invalid",
                    "!bench",
                    f"{'Host' if is_host else 'Guest'}",
                    f"N{uid}",
                    is_host,
                    joined if is_host else None,
                    joined,
                    joined,
                    Jsonb(["en"]),
                )

        _copy(
            User,
            [
                "id",
                "email",
                "password",
                "first_name",
                "last_name",
                "is_host",
                "became_host_at",
                "email_verified_at",
                "date_joined",
                "languages",
            ],
            users(),
            label="users",
            total=hosts + guests,
        )
        _reset_sequence(User)

        # Properties, with what bookings need to know about each.
        info: list[tuple] = []  # (price, max_guests, cleaning_fee, policy)

        def props():
            pid = 0
            for city, count in zip(cities, per_city, strict=True):
                km_lng = 111.32 * max(math.cos(math.radians(city["lat"])), 0.01)
                for _ in range(count):
                    pid += 1
                    ptype = _weighted(rng, PROPERTY_TYPES)
                    price = Decimal(
                        max(15.0, min(2000.0, rng.lognormvariate(math.log(city["price"]), 0.5)))
                    ).quantize(Decimal("1"))
                    max_guests = _weighted(rng, GUEST_CAPACITY)
                    cleaning = Decimal(rng.choice([0, 0, 15, 25, 40, 60]))
                    policy = rng.choice(["flexible", "moderate", "moderate", "strict"])
                    info.append((price, max_guests, cleaning, policy))
                    # Around the centre: most within ~8 km, a tail out to ~30 km.
                    dist = abs(rng.gauss(0, 6)) + (rng.random() < 0.1) * rng.uniform(0, 25)
                    angle = rng.uniform(0, 2 * math.pi)
                    lat = city["lat"] + dist * math.sin(angle) / 110.574
                    lng = city["lng"] + dist * math.cos(angle) / km_lng
                    created = now - timedelta(days=rng.uniform(0, 1095), seconds=rng.random())
                    reviews = rng.choice([0, 0, 0, 1, 3, 8, 20, 60])
                    rating = Decimal(str(round(rng.uniform(3.4, 5.0), 2))) if reviews else None
                    adjective = rng.choice(ADJECTIVES)
                    title = f"{adjective} {ptype} in {city['name']}"
                    description = (
                        f"A {adjective.lower()} {ptype} for up to {max_guests} guests in "
                        f"{city['name']}, close to the centre, shops and transport."
                    )
                    yield (
                        pid,
                        1 + (pid - 1) % hosts,
                        "published",
                        title,
                        description,
                        fold_text(title),
                        fold_text(description),
                        fold_text(city["name"]),
                        ptype,
                        f"{rng.randint(1, 300)} {rng.choice(SYLLABLES).capitalize()} Street",
                        city["name"],
                        city["country"],
                        Decimal(f"{lat:.6f}"),
                        Decimal(f"{lng:.6f}"),
                        max_guests,
                        max(1, max_guests // 2),
                        max(1, max_guests - 1),
                        policy,
                        rng.random() < 0.4,
                        cleaning,
                        price,
                        rating,
                        reviews,
                        f"bench-{pid}-{rng.getrandbits(64):016x}",
                        created,
                        created,
                        created,
                    )

        _copy(
            Property,
            [
                "id",
                "host_id",
                "status",
                "title",
                "description",
                "title_folded",  # what search matches (Property.save() keeps them)
                "description_folded",
                "city_folded",
                "property_type",
                "address",
                "city",
                "country",
                "latitude",
                "longitude",
                "max_guests",
                "bedrooms",
                "beds",
                "cancellation_policy",
                "instant_book",
                "cleaning_fee",
                "base_nightly_price",
                "rating_avg",
                "review_count",
                "ical_token",
                "created_at",
                "updated_at",
                "published_at",
            ],
            props(),
            label="properties",
            total=properties,
        )
        _reset_sequence(Property)

        _copy(
            StayType,
            ["property_id", "kind", "nightly_price"],
            ((pid, "standard", info[pid - 1][0]) for pid in range(1, properties + 1)),
            label="stay types",
            total=properties,
        )
        _copy(
            Photo,
            ["property_id", "image", "position", "is_cover", "created_at"],
            (
                (pid, f"properties/{pid}/bench-cover.jpg", 0, True, now)
                for pid in range(1, properties + 1)
            ),
            label="cover photos",
            total=properties,
        )

        def amenities():
            for pid in range(1, properties + 1):
                for amenity in rng.sample(amenity_ids, min(len(amenity_ids), rng.randint(2, 8))):
                    yield (pid, amenity)

        through = Property.amenities.through
        _copy(
            through,
            ["property_id", "amenity_id"],
            amenities(),
            label="property amenities",
            total=properties * 5,
        )

        # Bookings: back to back per property with random gaps, all in holding states.
        blocks: list[tuple] = []

        def booking_rows():
            bid = 0
            for pid in range(1, properties + 1):
                price, max_guests, cleaning, policy = info[pid - 1]
                cursor = today + timedelta(days=rng.randint(-5, 25))
                count = per_property + (1 if pid <= extra_bookings else 0)
                with_block = count > 1 and rng.random() < BLOCK_SHARE
                block_at = rng.randrange(1, count) if with_block else 0
                for k in range(count):
                    gap = rng.randint(0, 50) if k else 0
                    if k == block_at and gap >= 2:  # a block inside the gap, never on a stay
                        length = rng.randint(1, min(gap, 7))
                        blocks.append((pid, cursor, cursor + timedelta(days=length)))
                    check_in = cursor + timedelta(days=gap)
                    nights = _weighted(rng, NIGHTS)
                    check_out = check_in + timedelta(days=nights)
                    cursor = check_out
                    roll = rng.random()
                    if roll < 0.90:
                        status, hold, created = (
                            "confirmed",
                            None,
                            now - timedelta(days=rng.uniform(0, 120)),
                        )
                    elif roll < 0.95:
                        created = now - timedelta(hours=rng.uniform(0, 24))
                        status, hold = "pending_host", created + timedelta(hours=24)
                    else:
                        created = now - timedelta(minutes=rng.uniform(0, 30))
                        status, hold = "awaiting_payment", created + timedelta(minutes=30)
                    nights_total = price * nights
                    service = (nights_total + cleaning) / 10
                    total = nights_total + cleaning + service
                    items = [
                        {"code": "nights", "label": f"{nights} nights", "amount": f"{nights_total}"}
                    ]
                    if cleaning:
                        items.append(
                            {
                                "code": "cleaning_fee",
                                "label": "Cleaning fee",
                                "amount": str(cleaning),
                            }
                        )
                    items.append(
                        {"code": "service_fee", "label": "Service fee", "amount": f"{service:.2f}"}
                    )
                    snapshot = {
                        "currency": "EUR",
                        "nights": nights,
                        "nights_total": f"{nights_total:.2f}",
                        "discount": "0.00",
                        "meals": "0.00",
                        "stay_subtotal": f"{nights_total:.2f}",
                        "cleaning_fee": f"{cleaning:.2f}",
                        "service_fee": f"{service:.2f}",
                        "total": f"{total:.2f}",
                        "line_items": items,
                    }
                    bid += 1
                    yield (
                        bid,
                        pid,
                        hosts + 1 + rng.randrange(guests),
                        check_in,
                        check_out,
                        rng.randint(1, max_guests),
                        "standard",
                        Jsonb({}),
                        Jsonb(snapshot),
                        total.quantize(Decimal("0.01")),
                        "EUR",
                        status,
                        hold,
                        policy,
                        created,
                        created,
                    )

        _copy(
            Booking,
            [
                "id",
                "property_id",
                "guest_id",
                "check_in",
                "check_out",
                "guests",
                "stay_type",
                "meals",
                "price",
                "total",
                "currency",
                "status",
                "hold_expires_at",
                "cancellation_policy",
                "created_at",
                "updated_at",
            ],
            booking_rows(),
            label="bookings",
            total=bookings,
        )
        _reset_sequence(Booking)

        _copy(
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
            Photo,
            Property.amenities.through,
            Booking,
            AvailabilityBlock,
        ):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    log(f"dataset generated in {time.monotonic() - started:.0f} s")
