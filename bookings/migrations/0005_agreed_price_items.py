from decimal import Decimal

from django.db import migrations


def scale_agreed_prices(apps, schema_editor):
    """Bookings from a negotiation stored the list quote beside a different (agreed)
    total: store the list items scaled to the agreed total, as new ones are."""
    from properties.pricing import agreed_price

    Booking = apps.get_model("bookings", "Booking")
    for booking in Booking.objects.filter(price__has_key="agreed_total").iterator():
        price = booking.price
        if price.get("agreed") or "line_items" not in price:
            continue
        if Decimal(price.get("total", "0")) == booking.total:
            continue
        list_price = {k: v for k, v in price.items() if k not in ("list_total", "agreed_total")}
        refund = {"refund": price["refund"]} if "refund" in price else {}
        booking.price = {**agreed_price(list_price, booking.total), **refund}
        booking.save(update_fields=["price"])


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_holding_dates_index")]

    operations = [migrations.RunPython(scale_agreed_prices, migrations.RunPython.noop)]
