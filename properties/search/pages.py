"""A page of search results: the rows of the SQL step (compiled once per shape) that the
quote takes for the dates and that lie within the radius."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from core.money import quantize
from properties import pricing
from properties.models import Property, SeasonalRate, StayType
from properties.prepared import ShapeCache, Terms, compile_shape
from properties.quotes import quote_for_search
from properties.search.geo import within_radius
from properties.search.query import build_search
from properties.search.terms import search_terms, term_field

#: The columns the quote's rules and price read (loaded with dates, beside a card's).
QUOTE_COLUMNS = [
    "timezone",
    "advance_notice_days",
    "min_nights",
    "max_nights",
    "max_guests",
    "currency",
    "cleaning_fee",
    "weekly_discount_percent",
    "monthly_discount_percent",
]


_compiled_searches = ShapeCache(max_size=512)


class SearchResults:
    """The rows of the SQL step of a search, by slice (``results[0:21]``), each slice one
    query: the compiled query of its shape (:mod:`properties.prepared`) bound to this
    search's values, or where a shape did not compile, :func:`search_properties`."""

    def __init__(
        self, params: dict, columns: list[str], using: str = "default", now: datetime | None = None
    ):
        self.params = params
        self.columns = list(columns)
        self.using = using
        self.now = now

    def __getitem__(self, page: slice) -> list[dict]:
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("SearchResults takes a slice without a step")
        low, high = page.start or 0, page.stop
        values = search_terms(self.params, self.now)
        ordering = self.params.get("ordering")
        key = (
            self.using,
            connections[self.using].vendor,
            tuple(sorted(values)),
            ordering,
            tuple(self.columns),
            low,
            high,
        )

        def build(terms: Terms) -> QuerySet:
            return build_search(terms, ordering=ordering, columns=self.columns)[low:high]

        compiled = _compiled_searches.get(
            key, lambda: compile_shape(build, values, term_field, self.using)
        )
        if compiled is None:
            return list(build(Terms(values, term_field, named=False)))
        return compiled.rows(values, self.using)


@dataclass
class Page:
    rows: list[dict]  # the page's rows, each with its stay_type, stay_total, nightly_average
    next_start: int | None  # the SQL position the next page starts at, None at the end


def search_page(
    params: dict,
    *,
    columns: list[str],
    start: int = 0,
    size: int = 20,
    now: datetime | None = None,
    using: str = "default",
) -> Page:
    """A page of search results from SQL position ``start``: the rows of the SQL step
    (:class:`SearchResults`, in slices of ``size + 1`` at multiples of ``size``, the
    slices a plain page reads) that the quote takes for the dates and that lie within the
    radius, until ``size`` of them and one more (to know there is a next page).

    With dates each row carries ``stay_type`` (the stay type priced: ``stay_type`` or the
    cheapest that quotes), ``stay_total`` (the quote's total, without meals) and
    ``nightly_average`` (that total over the nights); the price filters apply to the
    nightly average. Without dates the three are ``None``."""
    dated = "check_in" in params
    radius = "radius_km" in params
    now = now or timezone.now()
    wanted = list(columns)
    if dated:
        wanted += [c for c in QUOTE_COLUMNS if c not in wanted]
    if radius:
        wanted += [c for c in ("latitude", "longitude") if c not in wanted]
    results = SearchResults(params, wanted, using=using, now=now)
    kept: list[tuple[int, dict]] = []
    batch, seen = start // size, start  # rows before ``seen`` are read
    while len(kept) <= size:
        low = batch * size
        rows = results[low : low + size + 1]
        fresh = [(low + i, row) for i, row in enumerate(rows) if low + i >= seen]
        seen = low + len(rows)
        if radius:
            fresh = [(i, row) for i, row in fresh if within_radius(params, row)]
        if dated:
            fresh = _quoted(params, fresh, now, using)
        else:
            fresh = [(i, {**row, **_NO_PRICE}) for i, row in fresh]
        kept.extend(fresh)
        if len(rows) <= size:
            break
        batch += 1
    next_start = kept[size][0] if len(kept) > size else None
    extra = set(wanted) - set(columns)
    page = [{k: v for k, v in row.items() if k not in extra} for _, row in kept[:size]]
    return Page(rows=page, next_start=next_start)


_NO_PRICE = {"stay_type": None, "stay_total": None, "nightly_average": None}


def _quoted(params: dict, rows: list[tuple[int, dict]], now: datetime, using: str) -> list:
    """The rows the quote takes, each with its stay type, total and nightly average; the
    price filters on the nightly average. Two queries for all the rows."""
    if not rows:
        return []
    check_in, check_out = params["check_in"], params["check_out"]
    nights = (check_out - check_in).days
    ids = [row["id"] for _, row in rows]
    offered: dict[int, dict] = {pk: {} for pk in ids}
    for spec in StayType.objects.using(using).filter(property_id__in=ids):
        offered[spec.property_id][spec.kind] = spec
    rates: dict[int, list] = {pk: [] for pk in ids}
    overlapping = SeasonalRate.objects.using(using).filter(
        property_id__in=ids, start__lt=check_out, end__gt=check_in
    )
    for rate in overlapping.order_by("start"):
        rates[rate.property_id].append(pricing.Rate(rate.start, rate.end, rate.nightly_price))
    low, high = params.get("min_price"), params.get("max_price")
    kept = []
    for index, row in rows:
        prop = Property(id=row["id"], **{c: row[c] for c in QUOTE_COLUMNS})
        found = quote_for_search(
            prop,
            offered=offered[row["id"]],
            rates=tuple(rates[row["id"]]),
            check_in=check_in,
            check_out=check_out,
            guests=params.get("guests") or 1,
            stay_type=params.get("stay_type"),
            now=now,
        )
        if found is None:
            continue
        kind, quote = found
        average = quantize(quote.total / nights, quote.currency)
        if (low is not None and average < low) or (high is not None and average > high):
            continue
        priced = {"stay_type": kind, "stay_total": quote.total, "nightly_average": average}
        kept.append((index, {**row, **priced}))
    return kept
