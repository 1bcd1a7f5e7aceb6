"""Each listing's price summary (``PriceSummary``), kept by database triggers.

Search with dates and a price filter or price ordering estimates every candidate's stay
price in SQL (``properties.search.price_key``). It read the cheapest stay types and the
seasonal rates through five correlated subqueries a row, evaluated again for each use of
the estimate: in a dense circle, hundreds of milliseconds (docs/benchmarks.md, "Search
after issue 19"). The summary row holds what the estimate needs of the stay types, and
the span of the seasonal rates, so that the rates are read only for a listing whose rates
reach into the stay.

Triggers keep it, so that every writer (services, the admin, fixtures, bulk loads, raw
SQL) leaves it right: after each insert, update (of the columns it summarises) and delete
of a stay type or a seasonal rate, the listing's row is computed again from its stay types
and rates, created on an insert or update if missing (a delete only updates: when a
listing is deleted, its summary may already be gone). On PostgreSQL the refresh first
locks the listing's row (``FOR NO KEY UPDATE``; services hold it already), so that two
writers of one listing take turns and the second one sees the first one's rows.

SQLite drops a table's triggers when Django rebuilds the table: a later migration that
rebuilds ``properties_staytype`` or ``properties_seasonalrate`` there must run
``install_triggers`` again (``properties/tests/test_price_summary.py`` fails otherwise).
The SQL below is this migration's own copy, as migrations keep.
"""

import django.db.models.deletion
from django.db import migrations, models

SUMMARISED = {  # the columns of each table that the summary reads
    "properties_staytype": ["property_id", "kind", "nightly_price", "monthly_price"],
    "properties_seasonalrate": ["property_id", "start", '"end"'],
}


def refresh_sql(listing: str) -> str:
    """The UPDATE that computes the summary row of the listing whose id is ``listing``
    (an SQL expression), the same on PostgreSQL and SQLite."""
    return f"""
        UPDATE properties_pricesummary SET
            (standard_nightly, with_meals_nightly, paying_guest_monthly, lowest_nightly) = (
                SELECT MIN(CASE WHEN kind = 'standard' THEN nightly_price END),
                       MIN(CASE WHEN kind = 'with_meals' THEN nightly_price END),
                       MIN(CASE WHEN kind = 'paying_guest' THEN monthly_price END),
                       MIN(nightly_price)
                FROM properties_staytype WHERE property_id = {listing}
            ),
            (rates_start, rates_end) = (
                SELECT MIN(start), MAX("end")
                FROM properties_seasonalrate WHERE property_id = {listing}
            )
        WHERE property_id = {listing}
    """  # noqa: S608 - table names and an id expression of this module, no input


def create_sql(listing: str) -> str:
    return (
        "INSERT INTO properties_pricesummary (property_id) "
        f"VALUES ({listing}) ON CONFLICT (property_id) DO NOTHING"
    )


POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION properties_price_summary_refresh(listing bigint, create_row boolean)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM properties_property WHERE id = listing FOR NO KEY UPDATE;
        IF create_row THEN
            {create_sql("listing")};
        END IF;
        {refresh_sql("listing")};
    END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION properties_price_summary_trigger()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.property_id <> NEW.property_id) THEN
            PERFORM properties_price_summary_refresh(OLD.property_id, false);
        END IF;
        IF TG_OP <> 'DELETE' THEN
            PERFORM properties_price_summary_refresh(NEW.property_id, true);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    *(
        sql
        for table, columns in SUMMARISED.items()
        for sql in (
            f"DROP TRIGGER IF EXISTS {table}_price_summary ON {table}",
            f"""
            CREATE TRIGGER {table}_price_summary
            AFTER INSERT OR DELETE OR UPDATE OF {", ".join(columns)} ON {table}
            FOR EACH ROW EXECUTE FUNCTION properties_price_summary_trigger()
            """,
        )
    ),
]


def _sqlite(table: str, columns: list[str]) -> list[str]:
    return [
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_price_summary_insert AFTER INSERT ON {table}
        BEGIN
            {create_sql("NEW.property_id")};
            {refresh_sql("NEW.property_id")};
        END
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_price_summary_update
        AFTER UPDATE OF {", ".join(columns)} ON {table}
        BEGIN
            {refresh_sql("OLD.property_id")};
            {create_sql("NEW.property_id")};
            {refresh_sql("NEW.property_id")};
        END
        """,
        f"""
        CREATE TRIGGER IF NOT EXISTS {table}_price_summary_delete AFTER DELETE ON {table}
        BEGIN
            {refresh_sql("OLD.property_id")};
        END
        """,
    ]


SQLITE = [sql for table, columns in SUMMARISED.items() for sql in _sqlite(table, columns)]


def install_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in SUMMARISED:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_price_summary ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS properties_price_summary_trigger()")
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS properties_price_summary_refresh(bigint, boolean)"
        )
    elif schema_editor.connection.vendor == "sqlite":
        for table in SUMMARISED:
            for event in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_price_summary_{event}")


def fill(apps, schema_editor):
    """A summary row for every listing with stay types or seasonal rates."""
    schema_editor.execute(
        "INSERT INTO properties_pricesummary (property_id) "
        "SELECT property_id FROM properties_staytype "
        "UNION SELECT property_id FROM properties_seasonalrate"
    )
    schema_editor.execute(refresh_sql("properties_pricesummary.property_id"))


class Migration(migrations.Migration):
    dependencies = [("properties", "0011_search_folded_text")]

    operations = [
        migrations.CreateModel(
            name="PriceSummary",
            fields=[
                (
                    "property",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="price_summary",
                        serialize=False,
                        to="properties.property",
                    ),
                ),
                (
                    "standard_nightly",
                    models.DecimalField(decimal_places=2, max_digits=10, null=True),
                ),
                (
                    "with_meals_nightly",
                    models.DecimalField(decimal_places=2, max_digits=10, null=True),
                ),
                (
                    "paying_guest_monthly",
                    models.DecimalField(decimal_places=2, max_digits=12, null=True),
                ),
                ("lowest_nightly", models.DecimalField(decimal_places=2, max_digits=10, null=True)),
                ("rates_start", models.DateField(null=True)),
                ("rates_end", models.DateField(null=True)),
            ],
        ),
        migrations.RunPython(install_triggers, drop_triggers),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
