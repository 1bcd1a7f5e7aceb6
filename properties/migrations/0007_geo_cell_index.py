"""Radius search filters on grid cells: index them, and gather their statistics.

PostgreSQL keeps statistics on an index's expression, so with ``prop_geo_cell`` it knows
how listings cluster into cells, which two independent ranges of latitude and longitude
cannot tell it (``properties.models.geo_cell``). ``ANALYZE`` fills them in at once rather
than at autovacuum's next pass.
"""

from django.db import migrations, models
from django.db.models.functions import Cast, Floor


def _cell(field):  # frozen copy of properties.models.geo_cell
    return Cast(Floor(models.F(field) * 40), models.BigIntegerField())


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE properties_property")


class Migration(migrations.Migration):
    dependencies = [("properties", "0006_search_city_created_index")]

    operations = [
        migrations.AddIndex(
            model_name="property",
            index=models.Index(
                _cell("latitude") * 16000 + _cell("longitude"), name="prop_geo_cell"
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
