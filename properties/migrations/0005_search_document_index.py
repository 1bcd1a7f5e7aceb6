"""A GIN index over the search document (PostgreSQL only).

The expression is the one ``properties.search.search_document()`` builds, so the
``@@`` match of a text search is served by the index. SQLite searches with
``icontains`` and gets no index.
"""

from django.db import migrations

INDEX_NAME = "prop_search_document"


def _index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    document = (
        SearchVector("title", weight="A", config="english")
        + SearchVector("city", weight="B", config="english")
        + SearchVector("description", weight="C", config="english")
    )
    return GinIndex(document, name=INDEX_NAME)


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("properties", "Property"), _index())


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("properties", "Property"), _index())


class Migration(migrations.Migration):
    dependencies = [("properties", "0004_constraints_and_indexes")]

    operations = [migrations.RunPython(add_index, remove_index)]
