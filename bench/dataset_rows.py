"""The rows of the search benchmark's dataset (``bench/dataset.py``), drawn from one seeded
``random.Random`` in a fixed order: cities with a Zipf-like share of the listings, then users,
properties, their amenities, and bookings back to back with host blocks in the gaps. Each
generator yields tuples in the order of its ``*_COLUMNS`` list."""

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from psycopg.types.json import Jsonb

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


def weighted(rng: random.Random, pairs):
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


USER_COLUMNS = [
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
]


def user_rows(rng: random.Random, *, hosts: int, guests: int, now: datetime):
    """Hosts 1..hosts, guests after. Unusable passwords; guests verified."""
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


PROPERTY_COLUMNS = [
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
]


def property_rows(
    rng: random.Random,
    cities: list[dict],
    per_city: list[int],
    *,
    hosts: int,
    now: datetime,
    info: list[tuple],
):
    """Properties, with what bookings need to know about each appended to ``info``:
    (price, max_guests, cleaning_fee, policy)."""
    from properties.models import fold_text

    pid = 0
    for city, count in zip(cities, per_city, strict=True):
        km_lng = 111.32 * max(math.cos(math.radians(city["lat"])), 0.01)
        for _ in range(count):
            pid += 1
            ptype = weighted(rng, PROPERTY_TYPES)
            price = Decimal(
                max(15.0, min(2000.0, rng.lognormvariate(math.log(city["price"]), 0.5)))
            ).quantize(Decimal("1"))
            max_guests = weighted(rng, GUEST_CAPACITY)
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


def amenity_rows(rng: random.Random, *, properties: int, amenity_ids: list[int]):
    for pid in range(1, properties + 1):
        for amenity in rng.sample(amenity_ids, min(len(amenity_ids), rng.randint(2, 8))):
            yield (pid, amenity)


BLOCK_SHARE = 0.2
BOOKING_COLUMNS = [
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
]


def booking_rows(
    rng: random.Random,
    info: list[tuple],
    *,
    per_property: int,
    extra_bookings: int,
    hosts: int,
    properties: int,
    guests: int,
    today: date,
    now: datetime,
    blocks: list[tuple],
):
    """Bookings: back to back per property with random gaps, all in holding states; a block
    inside a gap of one property in five appended to ``blocks``."""
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
            nights = weighted(rng, NIGHTS)
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
            items = [{"code": "nights", "label": f"{nights} nights", "amount": f"{nights_total}"}]
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
