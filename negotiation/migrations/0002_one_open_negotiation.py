"""At most one open negotiation per guest, property and overlapping dates (PostgreSQL backstop).

The service checks under the property row lock first; this constraint makes a
second open thread impossible even if a writer forgot the lock.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ADD = """
ALTER TABLE negotiation_negotiation ADD CONSTRAINT negotiation_one_open_per_dates
EXCLUDE USING gist (
    guest_id WITH =, property_id WITH =,
    daterange(check_in, check_out, '[)') WITH &&
) WHERE (status = 'open')
"""
DROP = "ALTER TABLE negotiation_negotiation DROP CONSTRAINT IF EXISTS negotiation_one_open_per_dates"


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("negotiation", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(_on_postgres(ADD), _on_postgres(DROP)),
    ]
