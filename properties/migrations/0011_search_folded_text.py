"""Search matches text ignoring case and accents, alike on SQLite and PostgreSQL.

``title_folded``, ``city_folded`` and ``description_folded`` hold ``fold_text()`` of their
column (no accents, case-folded; ``Property.save()`` keeps them), filled here for the
existing rows. Search compares them with the folded input: the city by equality (index
``prop_city_folded_published`` replaces the ``UPPER(city)`` one, and
``prop_city_folded_created_pub``, now in the model state so that SQLite's table rebuilds
keep it, replaces 0006's ``prop_city_created_pub``), text by substring on SQLite and on
PostgreSQL by full text over a document of the folded columns (its GIN index, outside
the model state like 0005's, replaces that one). On PostgreSQL 0008's covering index
``prop_created_cover`` is made again with the columns search now reads with dates.
"""

import unicodedata

from django.db import migrations, models


def fold_text(text: str) -> str:  # properties.models.fold_text as of this migration
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", stripped.casefold())


BATCH = 1000


def fill_folded(apps, schema_editor):
    Property = apps.get_model("properties", "Property")
    rows = Property.objects.order_by("pk").values_list("pk", "title", "city", "description")
    batch = []
    for pk, title, city, description in rows.iterator(chunk_size=BATCH):
        batch.append(
            Property(
                pk=pk,
                title_folded=fold_text(title),
                city_folded=fold_text(city),
                description_folded=fold_text(description),
            )
        )
        if len(batch) >= BATCH:
            Property.objects.bulk_update(
                batch, ["title_folded", "city_folded", "description_folded"]
            )
            batch = []
    if batch:
        Property.objects.bulk_update(batch, ["title_folded", "city_folded", "description_folded"])


def _document(prefix: str):
    from django.contrib.postgres.search import SearchVector

    return (
        SearchVector(f"title{prefix}", weight="A", config="english")
        + SearchVector(f"city{prefix}", weight="B", config="english")
        + SearchVector(f"description{prefix}", weight="C", config="english")
    )


def _gin(prefix: str):
    from django.contrib.postgres.indexes import GinIndex

    return GinIndex(_document(prefix), name="prop_search_document" + ("_folded" if prefix else ""))


#: 0008's covering index again, with what search now also reads of each row with dates
#: (the quote's rules and price) and checks on later pages (the snapshot), so that its
#: newest-first walk stays an index-only scan (PostgreSQL).
COVERING_INDEX = "prop_created_cover"
INCLUDED = [
    # the result card
    "title",
    "property_type",
    "city",
    "country",
    "latitude",
    "longitude",
    "max_guests",
    "instant_book",
    "accepts_offers",
    "currency",
    "base_nightly_price",
    "rating_avg",
    "review_count",
    # what a dates filter checks, and the quote's rules and price (search.QUOTE_COLUMNS)
    "advance_notice_days",
    "min_nights",
    "max_nights",
    "timezone",
    "cleaning_fee",
    "weekly_discount_percent",
    "monthly_discount_percent",
    # later pages: the snapshot
    "published_at",
]


def _covering(included):
    return models.Index(
        fields=["status", "-created_at", "-id"], include=included, name=COVERING_INDEX
    )


def _recreate_covering(apps, schema_editor, included):
    model = apps.get_model("properties", "Property")
    schema_editor.execute(f"DROP INDEX IF EXISTS {COVERING_INDEX}")
    schema_editor.add_index(model, _covering(included))


def swap_indexes(apps, schema_editor):
    # 0006's index: gone already where SQLite rebuilt the table for the new columns
    schema_editor.execute("DROP INDEX IF EXISTS prop_city_created_pub")
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("properties", "Property")
        schema_editor.add_index(model, _gin("_folded"))
        schema_editor.remove_index(model, _gin(""))
        _recreate_covering(apps, schema_editor, INCLUDED)


def unswap_indexes(apps, schema_editor):
    from django.db.models.functions import Upper

    model = apps.get_model("properties", "Property")
    schema_editor.add_index(
        model,
        models.Index(
            Upper("city"),
            models.F("created_at").desc(),
            models.F("id").desc(),
            condition=models.Q(status="published"),
            name="prop_city_created_pub",
        ),
    )
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, _gin(""))
        schema_editor.remove_index(model, _gin("_folded"))
        _recreate_covering(apps, schema_editor, INCLUDED[:16])  # 0008's


class Migration(migrations.Migration):
    dependencies = [("properties", "0010_block_note_public")]

    operations = [
        migrations.RemoveIndex(model_name="property", name="prop_city_upper_published"),
        migrations.AddField(
            model_name="property",
            name="city_folded",
            field=models.CharField(blank=True, default="", editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="property",
            name="description_folded",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="property",
            name="title_folded",
            field=models.CharField(blank=True, default="", editable=False, max_length=120),
        ),
        migrations.AddIndex(
            model_name="property",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["city_folded", "base_nightly_price"],
                name="prop_city_folded_published",
            ),
        ),
        migrations.AddIndex(
            model_name="property",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["city_folded", "-created_at", "-id"],
                name="prop_city_folded_created_pub",
            ),
        ),
        migrations.RunPython(fill_folded, migrations.RunPython.noop),
        migrations.RunPython(swap_indexes, unswap_indexes),
    ]
