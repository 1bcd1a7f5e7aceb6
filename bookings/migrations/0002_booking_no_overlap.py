"""The database backstop against double bookings (PostgreSQL only).

An exclusion constraint over (property, daterange(check_in, check_out, '[)'))
for the holding states. Writers still lock the property row first: relying on
the constraint alone deadlocks under contention. SQLite has no exclusion
constraints; there the IMMEDIATE transaction around check and insert gives the
same guarantee.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

HOLDING = "('pending_host', 'awaiting_payment', 'confirmed')"
ADD = f"""
ALTER TABLE bookings_booking ADD CONSTRAINT booking_no_overlap
EXCLUDE USING gist (
    property_id WITH =,
    daterange(check_in, check_out, '[)') WITH &&
) WHERE (status IN {HOLDING})
"""
DROP = "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS booking_no_overlap"


def _on_postgres(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(_on_postgres(ADD), _on_postgres(DROP)),
    ]
