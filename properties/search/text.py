"""Text search over the folded title, city and description."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Q

TEXT_SEARCH_CONFIG = "english"  # the GIN index of migration 0011 uses the same expression


def search_document():
    """Folded title (weight A), city (B) and description (C) as one ``tsvector``
    (PostgreSQL)."""
    return (
        SearchVector("title_folded", weight="A", config=TEXT_SEARCH_CONFIG)
        + SearchVector("city_folded", weight="B", config=TEXT_SEARCH_CONFIG)
        + SearchVector("description_folded", weight="C", config=TEXT_SEARCH_CONFIG)
    )


def text_search(qs, text: str):
    """``text`` folded (:func:`~properties.models.fold_text`) against the folded columns.
    PostgreSQL: full-text match (``@@``, served by the GIN index) ranked by relevance.
    SQLite: a substring match, unranked."""
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=TEXT_SEARCH_CONFIG)
        ranked = (
            qs.alias(document=search_document())
            .filter(document=query)
            .annotate(rank=SearchRank(F("document"), query))
        )
        return ranked, True
    return qs.filter(
        Q(title_folded__contains=text)
        | Q(description_folded__contains=text)
        | Q(city_folded__contains=text)
    ), False
