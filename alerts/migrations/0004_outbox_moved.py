"""The outbox moved to its own app (outbox.Event): unprocessed rows are carried over."""

from django.db import migrations


def carry_over(apps, schema_editor) -> None:
    Outbox = apps.get_model("alerts", "Outbox")
    Event = apps.get_model("outbox", "Event")
    Event.objects.bulk_create([
        Event(kind=row.kind, patient_id=row.patient_id, object_id=row.study_id,
              attempts=row.attempts, last_error=row.last_error)
        for row in Outbox.objects.filter(processed_at=None).order_by("id")
    ])


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0003_thresholds_notifications_reevaluation"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel(name="Outbox"),
    ]
