import pytest

from alerts.models import Alert
from alerts.services import alert_raise
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_alert_fires_once_per_patient_rule_breast_and_trigger():
    patient = PatientFactory()
    kwargs = dict(patient_id=patient.id, rule="calc_new_group", severity="high",
                  breast="left", trigger="study:7", reason="new group L2 outside the tumour bed")
    first, created = alert_raise(**kwargs)
    again, created_again = alert_raise(**kwargs)
    assert created and not created_again and first == again
    alert_raise(**kwargs | {"breast": "right"})
    alert_raise(**kwargs | {"trigger": "study:8"})
    assert Alert.objects.count() == 3


def _concurrently(n, fn):
    """Run `fn(i)` in n threads released together; each closes its own DB connection."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except Exception as exc:  # collected: an error in any thread fails the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_acknowledgements_record_one(site, radiologist):
    """Four radiologists press Acknowledge at once: no error, one acknowledgement.

    Runs on PostgreSQL (row locks) and SQLite (IMMEDIATE transactions) alike."""
    from django.contrib.auth.models import Group

    from alerts.services import alert_acknowledge
    from tests.patients.factories import UserFactory

    group = Group.objects.get(name="radiologist")
    users = [radiologist] + [UserFactory(username=f"rad{i}") for i in range(3)]
    for u in users[1:]:
        u.groups.add(group)
        site.members.add(u)
    patient = PatientFactory(site=site)
    alert, _ = alert_raise(patient_id=patient.id, rule="mri_washout", severity="high",
                           breast="left", trigger="study:1", reason="washout")

    results, errors = _concurrently(4, lambda i: alert_acknowledge(
        alert=alert, by=users[i], note=f"note {i}"))
    assert errors == []
    assert sum(changed for _, changed in results) == 1
    alert.refresh_from_db()
    winner = next(i for i, (_, changed) in enumerate(results) if changed)
    assert (alert.state, alert.acknowledged_by, alert.acknowledge_note) == (
        "acknowledged", users[winner], f"note {winner}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_raises_of_the_same_alert_create_one(site):
    patient = PatientFactory(site=site)
    results, errors = _concurrently(4, lambda i: alert_raise(
        patient_id=patient.id, rule="calc_new_group", severity="high", breast="left",
        trigger="study:9", reason="new group"))
    assert errors == []
    assert sum(created for _, created in results) == 1
    assert Alert.objects.count() == 1
