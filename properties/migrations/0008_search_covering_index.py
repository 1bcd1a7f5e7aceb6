"""Search walks the newest listings without reading the table (PostgreSQL).

A search without a city (radius, or dates only) often walks ``prop_created`` newest first
and checks each listing until a page of them match. Each step read the listing's row
from the table, and where matches are sparse (a narrow price band in a wide circle) that
was 16,000 rows for one page. ``prop_created_cover`` holds, besides its keys, every column
the walk checks and a result card shows, so the walk is an index-only scan: the table is
read for the page's rows alone (and for rows on pages not yet marked all-visible by
vacuum). Measured on the search benchmark (docs/benchmarks.md): radius searches' mean
execution 2.95 -> 2.14 ms, their slowest 33 -> 14 ms; dates-only 0.59 -> 0.35 ms.

The included columns are ``PropertyListSerializer.columns()`` and the dates filter's
(``properties.search``): a card column added there without a migration adding it here
makes the walk read the table again, slower but correct.

PostgreSQL only (other databases have no ``INCLUDE``): there it replaces ``prop_created``,
whose keys it starts with. The model state drops ``prop_created`` on every database; on
the others the index itself stays, outside the model state like those of 0005 and 0006.
"""

from django.db import migrations, models

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
    # what a dates filter checks
    "advance_notice_days",
    "min_nights",
    "max_nights",
]


def _covering_index():
    return models.Index(
        fields=["status", "-created_at", "-id"], include=INCLUDED, name=COVERING_INDEX
    )


def _created_index():
    return models.Index(fields=["status", "-created_at"], name="prop_created")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("properties", "Property")
    schema_editor.add_index(model, _covering_index())
    schema_editor.remove_index(model, _created_index())


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("properties", "Property")
    schema_editor.add_index(model, _created_index())
    schema_editor.remove_index(model, _covering_index())


class Migration(migrations.Migration):
    dependencies = [("properties", "0007_geo_cell_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="property", name="prop_created")],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
