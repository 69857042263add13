"""The network default protocol of docs/clinical-rules.md ("Surveillance schedule"); admins edit it."""

from django.db import migrations


def create(apps, schema_editor):
    Protocol = apps.get_model("surveillance", "Protocol")
    if not Protocol.objects.filter(is_default=True).exists():
        Protocol.objects.create(name="Default (ASCO 2013 / NCCN / ACR 2018)", is_default=True)


class Migration(migrations.Migration):
    dependencies = [("surveillance", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
