"""An index that answers search's "free for these dates" probe on its own: a listing's
holding bookings with every column the probe reads, so it never visits the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bookings", "0003_booking_completed_at_review")]

    operations = [
        migrations.AddIndex(
            model_name="booking",
            index=models.Index(
                condition=models.Q(("status__in", ("pending_host", "awaiting_payment", "confirmed"))),
                fields=["property", "check_in", "check_out", "hold_expires_at"],
                name="booking_holding_dates",
            ),
        ),
    ]
