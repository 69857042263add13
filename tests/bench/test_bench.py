"""The benchmark on a tiny cohort: every row measured with sane values, the guard, the JSON."""

import json
from datetime import date, timedelta
from unittest import mock

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.urls import NoReverseMatch, reverse

from bench import floor, measure, prepare
from bench.models import CohortStamp
from bench.report import NOT_AVAILABLE
from imaging.models import ImagingStudy
from patients.models import Patient

ITEMS = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
# The HL7 and load rows run the listener or gunicorn in another process, which must see
# committed rows: they have their own (transactional) tests in test_feed.py and
# test_load.py; these tests skip them.
NOT_HERE = ["hl7", "load"]


@pytest.fixture
def bench_db_name():
    """The test database under a name the guard accepts (SQLite's test name has no 'bench')."""
    with mock.patch.dict(connection.settings_dict, {"NAME": "test_tracker_bench"}):
        yield


@pytest.mark.parametrize("name", ["tracker", "tracker_api", "", "clinic-prod"])
def test_guard_refuses_databases_not_named_bench(name):
    with pytest.raises(prepare.BenchRefused, match="contains 'bench'"):
        prepare.check_database_name(name)


def test_guard_accepts_bench_databases():
    prepare.check_database_name("tracker_bench")
    prepare.check_database_name("test_tracker_BENCH")


@pytest.mark.django_db
def test_command_refuses_a_clinic_database_and_writes_nothing():
    with mock.patch.dict(connection.settings_dict, {"NAME": "tracker"}):
        with pytest.raises(CommandError, match="Refusing to run against the database 'tracker'"):
            call_command("bench", "--patients", "5", "--quiet")
    assert not Patient.objects.exists()


def test_trivial_view_is_not_in_the_product_urls():
    with pytest.raises(NoReverseMatch):
        reverse("bench-trivial")
    with override_settings(ROOT_URLCONF="bench.urls"):
        assert reverse("bench-trivial") == "/__bench__/trivial/"
        assert reverse("patient-list") == "/patients/"


def test_history_plan_spans_ten_years_with_forty_studies():
    today = date(2026, 11, 22)
    plan = prepare.history_plan(seed=1, as_of=today)
    days = [s.study_date for s in plan.studies]
    assert len(plan.studies) == prepare.HISTORY_STUDIES
    assert max(days) <= today and max(days) - min(days) >= timedelta(days=3650)
    assert days == sorted(days)


@pytest.fixture
def tiny(db, bench_db_name):
    cohort = prepare.ensure_cohort(patients=30, seed=3, reuse=False)
    user, coordinator = prepare.bench_users(cohort.sites)
    patient = prepare.history_patient(seed=3, as_of=cohort.as_of, sites=cohort.sites)
    return measure.Bench(user=user, coordinator=coordinator, patient=patient, sites=cohort.sites,
                         as_of=cohort.as_of, repeat=2, heavy_repeat=1, import_patients=4,
                         import_studies_per_patient=3)


def test_tiny_cohort_gets_a_forty_study_patient_and_a_stamp(tiny):
    assert ImagingStudy.objects.filter(patient=tiny.patient).count() == prepare.HISTORY_STUDIES
    stamp = CohortStamp.objects.get()
    assert (stamp.patients, stamp.seed, stamp.cohort_patients) == (30, 3, 31)
    assert stamp.history_patient_id == tiny.patient.id
    # --reuse keeps exactly this cohort; another size or seed is seeded afresh.
    assert prepare.ensure_cohort(patients=30, seed=3, reuse=True).reused
    assert prepare.matching_stamp(30, 4) is None and prepare.matching_stamp(31, 3) is None


def test_floors_return_the_pages_rows_as_json(tiny):
    uuid = str(tiny.patient.uuid)
    timeline = json.loads(floor.timeline_floor(user_id=tiny.user.id, patient_uuid=uuid))
    assert len(timeline["studies"]) == prepare.HISTORY_STUDIES
    api = json.loads(floor.timeline_api_floor(user_id=tiny.user.id, patient_uuid=uuid))
    assert len(api["studies"]) == prepare.HISTORY_STUDIES
    page = json.loads(floor.patient_list_floor(user_id=tiny.user.id, limit=25))
    assert page["count"] == 31 and len(page["results"]) == 25
    api_page = json.loads(floor.patient_api_floor(user_id=tiny.user.id, limit=50))
    assert api_page["count"] == 31 and len(api_page["results"]) == 31
    # Scoped like the app: a user of no cohort site gets nothing.
    assert json.loads(floor.patient_list_floor(user_id=0, limit=25))["count"] == 0


def test_every_item_has_a_row_with_sane_values(tiny):
    rows = measure.measure_all(tiny, skip=NOT_HERE)
    assert {r.item for r in rows} == ITEMS
    for row in rows:
        if row.status == NOT_AVAILABLE:
            assert row.note.startswith("not available: ") or row.item in ("9", "11")
            continue
        assert row.median is not None and row.median > 0, row
        if row.rate is not None:
            assert row.rate > 0 and row.unit == "studies/s"
        if row.floor is not None:
            assert row.floor > 0 and row.ratio == pytest.approx(row.median / row.floor)
    pages = [r for r in rows if r.item in ("1", "2") and r.status != NOT_AVAILABLE]
    assert pages and all(0 < r.queries < 40 and r.p95 >= r.median for r in pages)
    trivial = next(r for r in rows if r.item == "8")
    # Session, user, the user's roles (no role, no data) and the audit trail's record of
    # the read: the framework's own cost.
    assert trivial.queries <= 5
    quality = [r for r in rows if r.item == "10" and r.queries is not None]
    assert len(quality) == 4 and all(0 < r.queries <= 13 for r in quality)
    assert [r for r in rows if r.item == "10" and r.name.startswith("Adherence snapshot")]
    # Where the code exists, the row is measured, never marked unavailable.
    measured = {r.item for r in rows if r.status != NOT_AVAILABLE}
    expected = {"1", "2", "3", "4", "6", "8", "10"}
    if apps.is_installed("surveillance"):
        expected.add("5")
    if apps.is_installed("registry"):
        expected.add("7")
    assert expected <= measured


def test_command_prints_the_table_and_writes_json(db, bench_db_name, tmp_path, capsys):
    path = tmp_path / "bench.json"
    call_command("bench", "--patients", "12", "--seed", "5", "--repeat", "2", "--heavy-repeat", "1",
                 "--import-patients", "3", "--workers", "1", "--json", str(path), "--quiet",
                 "--skip", "hl7,load")
    out = capsys.readouterr().out
    assert "Cohort: 13 patients" in out and "Result" in out and f"JSON: {path}" in out
    data = json.loads(path.read_text())
    assert data["meta"]["patients"] == 13 and data["meta"]["seeded_patients"] == 12
    assert {r["item"] for r in data["rows"]} == ITEMS
    assert all(r["status"] in ("PASS", "MISS", "N/A", "") for r in data["rows"])
    # Same size and seed with --reuse: nothing is seeded again. The rows were measured above:
    # measuring them again (half of this test's time) would show nothing new.
    call_command("bench", "--patients", "12", "--seed", "5", "--repeat", "1", "--heavy-repeat", "1",
                 "--import-patients", "3", "--workers", "1", "--json", str(path), "--quiet", "--reuse",
                 "--skip", ",".join(k for k in measure.MEASUREMENTS if k != "trivial"))
    assert "Reusing the cohort" in capsys.readouterr().err


def test_transaction_control_is_not_counted_as_a_query():
    assert measure.is_transaction_control("BEGIN")
    assert measure.is_transaction_control('SAVEPOINT "s1_x1"')
    assert measure.is_transaction_control('RELEASE SAVEPOINT "s1_x1"')
    assert not measure.is_transaction_control("SELECT 1")
    assert not measure.is_transaction_control("COMMITTED_AT")  # a word, not the statement


def test_skipped_measurements_leave_a_row_saying_so(tiny):
    rows = measure.measure_all(tiny, skip=[k for k in measure.MEASUREMENTS if k != "trivial"])
    assert {r.item for r in rows} == ITEMS
    skipped = [r for r in rows if r.item != "8"]
    assert all(r.status == NOT_AVAILABLE and r.note.startswith("not measured: skipped") for r in skipped)
    with pytest.raises(ValueError, match="unknown measurement"):
        measure.measure_all(tiny, skip=["nonsense"])


@pytest.mark.django_db
def test_command_rejects_an_unknown_skip(bench_db_name):
    with pytest.raises(CommandError, match="--skip: unknown measurement"):
        call_command("bench", "--patients", "5", "--skip", "sweeps", "--quiet")


def test_seeded_rows_carry_historical_timestamps(tiny):
    studies = ImagingStudy.objects.filter(patient__site__in=tiny.sites).exclude(patient=tiny.patient)
    assert studies.exists()
    for study in studies:
        assert study.updated_at == (study.signed_at or study.updated_at)
        assert study.updated_at.date() <= (study.signed_at or study.updated_at).date()
    assert not studies.filter(updated_at__date=tiny.as_of, study_date__lt=tiny.as_of).exists()


def test_reset_puts_the_cohort_back_as_seeded_so_each_first_sweep_does_the_same_work(tiny):
    from surveillance.models import ScheduledItem, SweepRun
    from surveillance.services.sweep import surveillance_sweep

    seeded = dict(Patient.objects.values_list("id", "follow_up_status"))
    stamp = CohortStamp.objects.get()
    assert stamp.seeded_statuses == {
        s: sorted(p for p, st in seeded.items() if st == s and p != tiny.patient.id)
        for s in set(seeded.values()) - {"active"}}
    first = surveillance_sweep(as_of=tiny.as_of)
    items = ScheduledItem.objects.count()
    assert items and dict(Patient.objects.values_list("id", "follow_up_status")) != seeded
    prepare.reset_surveillance()
    assert not ScheduledItem.objects.exists() and not SweepRun.objects.exists()
    assert dict(Patient.objects.values_list("id", "follow_up_status")) == seeded
    assert surveillance_sweep(as_of=tiny.as_of) == first
    assert ScheduledItem.objects.count() == items


def test_first_pass_raises_every_alert_again_on_a_reused_cohort(tiny):
    from alerts.models import Alert

    tiny.workers = 1
    measure.reevaluation_rows(tiny)
    raised = set(Alert.objects.values_list("dedup_key", flat=True))
    assert raised
    measure.forget_alerts(tiny)
    assert not Alert.objects.exists()
    rows = measure.reevaluation_rows(tiny)
    assert set(Alert.objects.values_list("dedup_key", flat=True)) == raised
    assert [r.name.split(" (")[0] for r in rows] == ["First evaluation pass",
                                                     "Full-cohort alert re-evaluation"]


@pytest.mark.django_db
def test_no_broker_queues_neither_evaluations_nor_emails(site, radiologist,
                                                         django_capture_on_commit_callbacks):
    from alerts import tasks
    from alerts.evaluation import evaluate_patient
    from alerts.models import Notification
    from outbox import tasks as outbox_tasks
    from tests.alerts.builders import finalize_progressing, surveillance_patient

    patient = surveillance_patient(site)
    with mock.patch.object(outbox_tasks.process_event, "delay") as evaluations, \
            mock.patch.object(tasks.send_notification, "delay") as emails:
        with measure.no_broker(), django_capture_on_commit_callbacks(execute=True) as callbacks:
            finalize_progressing(patient, radiologist)
            evaluate_patient(patient.id)
    assert Notification.objects.exists() and len(callbacks) >= 2  # the outbox row's, the email's, …
    evaluations.assert_not_called()
    emails.assert_not_called()
