"""Items the plan service cancelled because their treatment dates went away ("no surgery
recorded") or changed ("no longer in the plan …") were never a decision about the patient:
they are superseded, so a re-entered surgery gets its whole plan back (issue 16)."""

from django.db import migrations
from django.db.models import Q

SYSTEM_REASONS = Q(cancel_reason="no surgery recorded") | Q(cancel_reason__startswith="no longer in the plan")


def forwards(apps, schema_editor):
    ScheduledItem = apps.get_model("surveillance", "ScheduledItem")
    ScheduledItem.objects.filter(SYSTEM_REASONS, status="cancelled").update(
        status="superseded", cancel_reason="superseded: treatment dates corrected or voided")


class Migration(migrations.Migration):
    dependencies = [("surveillance", "0008_superseded_items_and_transitions")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
