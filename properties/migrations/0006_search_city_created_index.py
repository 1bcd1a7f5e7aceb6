"""An index for the commonest search: a city, dates, the default ordering (newest first).

``(UPPER(city), created_at DESC, id DESC) WHERE status = 'published'`` walks one city's
listings in the order the first page shows them, so a search that filters the dates
with anti-joins (``NOT EXISTS``) stops after the first page of available listings instead
of checking and sorting every listing of the city. Measured on the search benchmark
(100,000 listings, 1,000,000 bookings; docs/benchmarks.md): the biggest cities were the
p99 of "city + dates + guests".

Created outside the model state, like 0005, so ``makemigrations`` neither sees nor drops
it; to declare it in ``Property.Meta.indexes`` later, wrap that ``AddIndex`` in
``SeparateDatabaseAndState`` (state only).
"""

from django.db import migrations

INDEX_NAME = "prop_city_created_pub"


def _index():
    from django.db import models
    from django.db.models.functions import Upper

    return models.Index(
        Upper("city"),
        models.F("created_at").desc(),
        models.F("id").desc(),
        condition=models.Q(status="published"),
        name=INDEX_NAME,
    )


def add_index(apps, schema_editor):
    schema_editor.add_index(apps.get_model("properties", "Property"), _index())


def remove_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("properties", "Property"), _index())


class Migration(migrations.Migration):
    dependencies = [("properties", "0005_search_document_index")]

    operations = [migrations.RunPython(add_index, remove_index)]
