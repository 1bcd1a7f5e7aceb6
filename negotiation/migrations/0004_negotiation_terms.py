from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def policy_from_property(apps, schema_editor):
    """Negotiations opened before the policy was recorded: the listing's policy now (the
    best that is known of what they opened under)."""
    Negotiation = apps.get_model("negotiation", "Negotiation")
    Property = apps.get_model("properties", "Property")
    Negotiation.objects.filter(cancellation_policy="").update(
        cancellation_policy=Subquery(
            Property.objects.filter(pk=OuterRef("property_id")).values("cancellation_policy")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("negotiation", "0003_action_receipt"),
        ("properties", "0008_search_covering_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="negotiation",
            name="cancellation_policy",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.RunPython(policy_from_property, migrations.RunPython.noop),
    ]
