"""The chunk re-evaluation's bulk writes equal the per-alert path's: the same alerts,
audit events, notification rows and emails enqueued after commit, on a seeded cohort."""

from datetime import date
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alerts import evaluation
from alerts.evaluation import evaluate_patient, reevaluate_chunk
from alerts.models import Alert, AlertSettings, Notification
from alerts.services import alert_raise, alerts_raise_many
from audit.models import AuditEvent
from core import roles
from demo.seeding.cohort import seed_cohort
from patients.models import Patient, Site
from tests.alerts.builders import finalize_progressing, surveillance_patient
from tests.patients.factories import UserFactory

pytestmark = pytest.mark.django_db


def _radiologist(username: str, sites, **fields):
    user = UserFactory(username=username, **fields)
    user.groups.add(Group.objects.get(name=roles.RADIOLOGIST))
    for s in sites:
        s.members.add(user)
    return user


@pytest.fixture
def cohort():
    """A seeded cohort whose sites have the recipients `alert_recipients` must sort out:
    two radiologists sharing an address, an inactive one, one without an address, a
    coordinator, and a radiologist of one site only."""
    seed_cohort(n=60, seed=8, today=date(2026, 11, 1))
    sites = list(Site.objects.filter(code__startswith="cohort").order_by("id"))
    _radiologist("rad-a", sites, email="reading@clinic.example")
    _radiologist("rad-b", sites, email="reading@clinic.example")
    _radiologist("rad-c", sites[:1], email="c@clinic.example")
    _radiologist("rad-inactive", sites, email="gone@clinic.example", is_active=False)
    _radiologist("rad-no-email", sites, email="")
    coordinator = UserFactory(username="coord", email="coord@clinic.example")
    coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    for s in sites:
        s.members.add(coordinator)
    return list(Patient.objects.order_by("id").values_list("id", flat=True))


def _written(captured_sends: list[int]) -> dict:
    """Everything the evaluation wrote, keyed by dedup key (ids and times differ by run)."""
    alerts = {a.id: a for a in Alert.objects.all()}
    out = {"alerts": {}, "audit": {}, "notifications": set(), "sent": []}
    for a in alerts.values():
        out["alerts"][a.dedup_key] = (a.patient_id, a.rule, a.severity, a.breast, a.study_id,
                                      a.reason, a.details, a.state)
    for e in AuditEvent.objects.filter(object_type="alerts.Alert"):
        alert = alerts[int(e.object_id)]
        changes = dict(e.changes)
        assert changes.pop("id") == {"before": None, "after": alert.id}
        assert changes.pop("created_at") == {"before": None, "after": alert.created_at.isoformat()}
        assert alert.dedup_key not in out["audit"]  # one event per alert
        out["audit"][alert.dedup_key] = (e.action, e.actor_id, e.actor_username, e.patient_id,
                                         e.patient_uuid, e.ip, e.request_path, changes)
    notifications = {n.id: n for n in Notification.objects.select_related("alert")}
    for n in notifications.values():
        out["notifications"].add((n.alert.dedup_key, n.channel, n.recipient_id, n.address, n.status))
    out["sent"] = sorted((notifications[i].alert.dedup_key, notifications[i].address)
                         for i in captured_sends)
    return out


def _run(fn, django_capture_on_commit_callbacks) -> dict:
    """What `fn` writes and enqueues after commit, then rolled back."""
    with mock.patch("alerts.notifications.alerts.enqueue_send") as send:
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):
                with transaction.atomic():
                    fn()
            written = _written([c.args[0] for c in send.call_args_list])
            transaction.set_rollback(True)
    assert not Alert.objects.exists()
    return written


def test_bulk_path_writes_what_the_per_alert_path_writes(cohort, django_capture_on_commit_callbacks):
    one_by_one = _run(lambda: [evaluate_patient(pid) for pid in cohort], django_capture_on_commit_callbacks)
    bulk = _run(lambda: reevaluate_chunk(None, cohort), django_capture_on_commit_callbacks)
    assert bulk == one_by_one
    # The cohort exercises what matters: high and medium alerts, shared addresses.
    severities = {v[2] for v in bulk["alerts"].values()}
    assert len(bulk["alerts"]) > 10 and severities == {"high", "medium"}
    addresses = [n[3] for n in bulk["notifications"]]
    assert set(addresses) == {"reading@clinic.example", "c@clinic.example"}
    assert len(bulk["sent"]) == len(bulk["notifications"])


def test_bulk_path_skips_what_is_raised_and_counts(cohort):
    assert reevaluate_chunk(None, cohort[:30])[0] > 0
    raised = Alert.objects.count()
    created, failed = reevaluate_chunk(None, cohort)
    assert failed == 0 and Alert.objects.count() == raised + created
    assert reevaluate_chunk(None, cohort) == (0, 0)
    assert AuditEvent.objects.filter(object_type="alerts.Alert").count() == Alert.objects.count()


def test_alerts_raised_concurrently_are_neither_duplicated_nor_returned(site):
    """`ON CONFLICT DO NOTHING`: a key another delivery inserted first is skipped."""
    patient = surveillance_patient(site)
    kwargs = dict(patient_id=patient.id, rule="mri_washout", severity="high", reason="r")
    first, _ = alert_raise(trigger="study:1", **kwargs)
    alerts = [Alert(dedup_key=Alert.make_dedup_key(patient_id=patient.id, rule="mri_washout",
                                                   breast="", trigger=f"study:{n}"),
                    **kwargs) for n in (1, 2, 2, 3)]
    created = alerts_raise_many(alerts)
    assert [a.dedup_key.rsplit(":", 1)[1] for a in created] == ["2", "3"]
    assert all(a.pk and not a._state.adding for a in created)
    assert Alert.objects.count() == 3 and Alert.objects.get(pk=first.pk).reason == "r"
    assert {a.pk for a in created} == set(Alert.objects.exclude(pk=first.pk).values_list("pk", flat=True))


def test_a_first_pass_chunk_costs_a_fixed_number_of_queries(cohort):
    AlertSettings.current()
    with CaptureQueriesContext(connection) as ctx:
        created, _ = reevaluate_chunk(None, cohort)
    assert created > 10
    # Histories (7) + thresholds (1) + raised alerts (1) + alerts, audit events (1 each)
    # + sites and radiologists (2) + cases notified already (1) + notification rows (1),
    # however many alerts.
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) <= 15, sql


def test_a_failing_bulk_write_falls_back_to_one_patient_at_a_time(site, radiologist):
    patients = [surveillance_patient(site) for _ in range(2)]
    for p in patients:
        finalize_progressing(p, radiologist)
    with mock.patch("alerts.evaluation.alerts_raise_many", side_effect=RuntimeError("deadlock")):
        assert reevaluate_chunk(None, [p.id for p in patients]) == (4, 0)
    assert Alert.objects.count() == 4
    assert Notification.objects.count() == 2
    assert evaluation.reevaluate_chunk(None, [p.id for p in patients]) == (0, 0)
