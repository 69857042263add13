"""The shipped rule thresholds (docs/clinical-rules.md, "Thresholds") as the settings row,
so a new database holds them before anyone opens the admin. An existing row is kept."""

from decimal import Decimal

from django.db import migrations

SHIPPED = {"extent_mm": Decimal("5.0"), "extent_percent": Decimal("20.0"),
           "lesion_growth_mm": Decimal("5.0"), "lesion_growth_percent": Decimal("20.0")}


def create(apps, schema_editor):
    apps.get_model("alerts", "AlertSettings").objects.get_or_create(pk=1, defaults=SHIPPED)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0005_alert_superseded")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
