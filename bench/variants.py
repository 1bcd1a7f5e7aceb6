"""Search variants the benchmark can measure instead of the shipped code (``--variant``).

``not-exists``: the dates filter as two correlated ``NOT EXISTS`` instead of ``NOT IN``
subqueries. PostgreSQL never turns ``NOT IN (subquery)`` into an anti-join, so the
shipped filter builds a hash of every overlapping booking in the whole table on each
search; ``NOT EXISTS`` (each one a separate condition: ``NOT (EXISTS .. OR EXISTS ..)``
is not pulled up either) is planned as anti-joins probing the per-property indexes, and
the scan can stop at the first page. A proposal for ``properties/search.py``, measured
here by patching it in the benchmark's processes only.
"""


def apply_variant(name: str) -> None:
    if name == "shipped":
        return
    if name != "not-exists":
        raise ValueError(f"unknown search variant {name!r}")
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    import properties.search
    from bookings.models import Booking
    from properties.models import AvailabilityBlock

    def bookable_for(qs, check_in, check_out):
        nights = (check_out - check_in).days
        notice = (check_in - timezone.now().date()).days
        booked = (
            Booking.objects.filter(property=OuterRef("pk"))
            .holding()
            .overlapping(check_in, check_out)
        )
        blocked = AvailabilityBlock.objects.filter(
            property=OuterRef("pk"), start__lt=check_out, end__gt=check_in
        )
        return qs.filter(
            ~Exists(booked),
            ~Exists(blocked),
            min_nights__lte=nights,
            max_nights__gte=nights,
            advance_notice_days__lte=max(notice, 0),
        )

    assert hasattr(properties.search, "_bookable_for"), "properties.search changed: update me"
    properties.search._bookable_for = bookable_for
