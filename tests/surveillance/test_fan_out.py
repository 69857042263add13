"""A first sweep's plans spread over the workers in chunks (services/fan_out.py): the same
plans and the same day as a sweep in one worker, each chunk written once, the sweep
continued exactly once, and nothing waiting forever when a chunk fails or its task is lost."""

from datetime import date

import pytest
import time_machine
from celery import current_app

from alerts.models import Alert
from patients.models import Patient
from surveillance.models import Digest, PatientPlan, PlanChunk, PlanFanOut, ScheduledItem, SweepRun
from surveillance.services import fan_out
from surveillance.services.fan_out import plan_chunk_run, plans_fan_out
from surveillance.services.sweep import surveillance_sweep
from surveillance.tasks import daily_sweep_and_digest, generate_plan_chunk, refresh_stale_plans
from tests.imaging.factories import ImagingStudyFactory

from .test_sweep import cohort

pytestmark = pytest.mark.django_db
DAY = date(2024, 3, 1)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 2 patients, fanned out from 2 chunks on."""
    monkeypatch.setattr(fan_out, "FAN_OUT_CHUNK", 2)
    monkeypatch.setattr(fan_out, "FAN_OUT_MIN_CHUNKS", 1)


@pytest.fixture
def eager():
    app = current_app
    old, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield
    app.conf.task_always_eager = old


def snapshot() -> list[tuple]:
    """Every item and patient state the sweep decides, by patient (ids differ between runs)."""
    items = sorted(ScheduledItem.objects.values_list(
        "patient_id", "kind", "laterality", "due_date", "status", "became_due_on", "became_overdue_on",
        "lost_on", "done_on"))
    statuses = sorted(Patient.objects.values_list("id", "follow_up_status"))
    alerts = sorted(Alert.objects.values_list("patient_id", "rule"))
    return [items, statuses, alerts]


def reset() -> None:
    ScheduledItem.objects.all().delete()
    PatientPlan.objects.all().delete()
    SweepRun.objects.all().delete()
    PlanFanOut.objects.all().delete()
    Alert.objects.all().delete()
    Patient.objects.update(follow_up_status="active")


@pytest.mark.parametrize(("patients", "fanned"), [(2, False), (3, True)])
def test_fans_out_only_more_than_the_minimum_of_chunks(site, small_chunks, patients, fanned):
    ids = sorted(p.id for p in cohort(site, patients))
    fan = plans_fan_out(as_of=DAY)
    assert fan.new is fanned and not fan.waiting
    if fanned:
        chunks = list(PlanChunk.objects.order_by("id"))
        assert fan.chunk_ids == [c.id for c in chunks]
        assert [c.patient_ids for c in chunks] == [ids[:2], ids[2:]]
    else:
        assert fan.chunk_ids == [] and not PlanFanOut.objects.exists()


def test_the_daily_task_through_chunks_gives_the_plans_of_a_sweep_in_one_worker(
        site, coordinator, small_chunks, eager, monkeypatch):
    for patient in cohort(site, 5):  # a yearly mammogram done, to be matched with its item
        ImagingStudyFactory(patient=patient, study_date=date(2022, 3, 10), final=True)
    from surveillance.services import sweep

    matched_again = []
    monkeypatch.setattr(sweep, "match_patients", lambda ids: matched_again.extend(ids) or 0)
    with time_machine.travel(DAY, tick=False):
        result = daily_sweep_and_digest()
    assert result == {"plan_chunks": 3}
    assert matched_again == []  # the chunks matched their patients as they wrote their plans
    monkeypatch.undo()
    fan = PlanFanOut.objects.get()
    assert fan.continued_at is not None and not fan.chunks.filter(done_at=None).exists()
    run = SweepRun.objects.get()  # the last chunk continued the sweep, once
    assert run.finished_at is not None and run.counts["plans_regenerated"] == 0
    assert Digest.objects.filter(user=coordinator).exists()
    through_chunks = snapshot()

    reset()
    with time_machine.travel(DAY, tick=False):
        surveillance_sweep()
    assert snapshot() == through_chunks
    assert ScheduledItem.objects.count() > 100 and ScheduledItem.objects.filter(status="done").count() == 5


def test_a_chunk_is_written_once_and_the_sweep_continued_once(site, small_chunks):
    patients = cohort(site, 3)
    first, last = plans_fan_out(as_of=DAY).chunk_ids
    assert plan_chunk_run(first) is None  # another chunk is left
    items = ScheduledItem.objects.count()
    assert plan_chunk_run(first) is None and ScheduledItem.objects.count() == items  # delivered twice
    assert plan_chunk_run(last) == DAY  # the last one: continue the day's sweep
    assert plan_chunk_run(last) is None  # …only once
    assert PatientPlan.objects.filter(patient__in=patients).count() == 3
    assert plan_chunk_run(10**9) is None  # a chunk deleted since


def test_a_failed_chunk_is_done_and_its_plans_are_written_by_the_sweep(site, small_chunks, monkeypatch):
    patients = cohort(site, 3)
    first, last = plans_fan_out(as_of=DAY).chunk_ids
    real = fan_out.plans_generate

    def broken(ids, **kw):
        if ids == PlanChunk.objects.get(id=first).patient_ids:
            raise RuntimeError("a bad row")
        return real(ids, **kw)

    monkeypatch.setattr(fan_out, "plans_generate", broken)
    assert plan_chunk_run(first) is None
    assert plan_chunk_run(last) == DAY
    failed = PlanChunk.objects.get(id=first)
    assert failed.failed and failed.done_at is not None
    assert not ScheduledItem.objects.filter(patient_id__in=failed.patient_ids).exists()  # rolled back
    with time_machine.travel(DAY, tick=False):
        counts = surveillance_sweep()  # the continuation
    assert counts["plans_regenerated"] == 2
    assert PatientPlan.objects.filter(patient__in=patients).count() == 3


def test_the_next_beat_sends_lost_chunks_again_and_sweeps_without_waiting(site, small_chunks):
    patients = cohort(site, 5)
    chunk_ids = plans_fan_out(as_of=DAY).chunk_ids
    plan_chunk_run(chunk_ids[0])  # the other tasks were lost with Redis's queue
    undone = PlanChunk.objects.filter(done_at=None)
    waiting = {pid for c in undone for pid in c.patient_ids}

    fan = plans_fan_out(as_of=date(2024, 3, 2))
    assert not fan.new and fan.chunk_ids == chunk_ids[1:] and fan.waiting == waiting
    assert PlanFanOut.objects.get().continued_at is not None  # today's sweep does the rest
    with time_machine.travel(date(2024, 3, 2), tick=False):
        counts = surveillance_sweep(skip_plans=fan.waiting)
    assert counts["plans_regenerated"] == 0  # the waiting patients are their chunks' work
    assert not PatientPlan.objects.filter(patient_id__in=waiting).exists()
    for chunk_id in fan.chunk_ids:  # the tasks sent again arrive
        assert plan_chunk_run(chunk_id) is None  # the sweep was already continued
    assert PatientPlan.objects.filter(patient__in=patients).count() == 5
    assert plans_fan_out(as_of=date(2024, 3, 3)).chunk_ids == []  # nothing left over


def test_the_next_beat_closes_a_finished_fan_out_whose_continuation_was_lost(site, small_chunks):
    cohort(site, 3)
    for chunk_id in plans_fan_out(as_of=DAY).chunk_ids:
        plan_chunk_run(chunk_id)
    PlanFanOut.objects.update(continued_at=None)  # as if the last chunk died before its claim
    fan = plans_fan_out(as_of=date(2024, 3, 2))
    assert fan.chunk_ids == [] and not fan.new and not fan.waiting
    assert PlanFanOut.objects.get().continued_at is not None


def test_a_protocol_change_with_many_plans_writes_them_in_chunks_and_sweeps_nothing(site, small_chunks,
                                                                                    eager):
    patients = cohort(site, 5)
    assert refresh_stale_plans() == {"plan_chunks": 3}
    fan = PlanFanOut.objects.get()
    assert not fan.sweep_after and fan.continued_at is not None
    assert PatientPlan.objects.filter(patient__in=patients).count() == 5
    assert not SweepRun.objects.exists()  # the day's sweep runs at its hour, as usual
    assert refresh_stale_plans() == {"patients": 0}  # nothing stale any more: nothing sent


def test_nobody_writes_the_plans_of_a_chunk_not_done_yet(site, small_chunks, eager, monkeypatch):
    """A chunk on its way to a worker: neither the sweep run in process (the command, a
    continuation) nor a protocol change's refresh writes those plans meanwhile."""
    cohort(site, 5)
    chunk_ids = plans_fan_out(as_of=DAY, sweep_after=False).chunk_ids
    waiting = {pid for c in PlanChunk.objects.all() for pid in c.patient_ids}
    assert waiting == set(Patient.objects.values_list("id", flat=True))
    with time_machine.travel(DAY, tick=False):
        result = daily_sweep_and_digest(fan_out=False)
    assert result["sweep"]["plans_regenerated"] == 0 and not PatientPlan.objects.exists()
    sent = []
    monkeypatch.setattr(generate_plan_chunk, "delay", sent.append)
    assert refresh_stale_plans() == {"patients": 0} and sent == chunk_ids  # sent again, not written
    for chunk_id in chunk_ids:
        assert plan_chunk_run(chunk_id) is None  # no sweep to continue after a protocol change
    assert PatientPlan.objects.count() == 5


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_chunks_run_side_by_side_on_postgresql(postgres_db, site, small_chunks):
    """A chunk being written locks its own row only: another chunk of the same fan-out runs
    meanwhile (locking the fan-out's row too made every chunk wait for the running one)."""
    import threading

    from django.db import connection, transaction

    cohort(site, 3)
    first, second = plans_fan_out(as_of=DAY).chunk_ids
    holding, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        with transaction.atomic():
            fan_out.locked_chunk(first)
            holding.set()
            release.wait(30)
        connection.close()

    other = threading.Thread(target=hold_first)
    other.start()
    try:
        assert holding.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting on the lock would fail here
        assert plan_chunk_run(second) is None  # written; the first chunk is still open
        assert PlanChunk.objects.get(id=second).done_at is not None
    finally:
        release.set()
        other.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert plan_chunk_run(first) == DAY


def test_beat_firing_twice_leaves_the_sweep_under_way_to_its_chunks(site, small_chunks, monkeypatch):
    cohort(site, 5)
    sent = []
    monkeypatch.setattr(generate_plan_chunk, "delay", sent.append)
    with time_machine.travel(DAY, tick=False):
        assert daily_sweep_and_digest() == {"plan_chunks": 3}
        plan_chunk_run(sent[0])
        assert daily_sweep_and_digest() == {"plan_chunks_pending": 2}  # nothing sent, nothing swept
    assert len(sent) == 3 and not SweepRun.objects.exists()
    assert plan_chunk_run(sent[1]) is None
    assert plan_chunk_run(sent[2]) == DAY  # the last chunk still continues the day's sweep


def test_the_daily_task_reads_the_stale_plans_once(site, monkeypatch):
    """The fan-out's check hands the plans it found to the sweep (~0.6 s at 100,000 patients)."""
    from surveillance.services import plans

    cohort(site, 3)
    calls = []
    real = plans.stale_plan_patient_ids

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(plans, "stale_plan_patient_ids", counted)
    monkeypatch.setattr(fan_out, "stale_plan_patient_ids", counted)
    with time_machine.travel(DAY, tick=False):
        result = daily_sweep_and_digest()
    assert result["sweep"]["plans_regenerated"] == 3 and len(calls) == 1
