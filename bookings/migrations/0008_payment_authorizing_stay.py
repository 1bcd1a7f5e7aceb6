"""The stay an authorization made before its booking is for, and a partial index over
the authorizations under way (a handful of rows at any time), so a request for the same
dates can wait for one instead of authorizing a card that would lose the race."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0007_idempotency_keys_without_like_indexes"),
        ("properties", "0012_price_summary"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="check_in",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="check_out",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="property",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="properties.property",
            ),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(
                    ("kind", "authorize"), ("property__isnull", False), ("status", "pending")
                ),
                fields=["property", "check_in"],
                name="payment_authorizing_stay",
            ),
        ),
    ]
