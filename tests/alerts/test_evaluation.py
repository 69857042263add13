"""Evaluation service, outbox claim and sweep, cohort re-evaluation (tasks' functions)."""

import logging
from datetime import date
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import evaluation, tasks
from alerts.evaluation import evaluate_patient, reevaluate_chunk
from alerts.handlers import evaluate_after_signing
from alerts.models import Alert, AlertSettings, Notification, Reevaluation, ThresholdChange
from alerts.services import thresholds_update
from core.tasks import backoff
from outbox import tasks as outbox_tasks
from outbox.models import Event
from outbox.services import event_process, events_sweep
from tests.alerts.builders import enhancing_mri, finalize_progressing, surveillance_patient

pytestmark = pytest.mark.django_db


def rules_of(patient):
    return sorted(Alert.objects.filter(patient=patient).values_list("rule", flat=True))


def test_stable_patient_raises_nothing(site):
    patient = surveillance_patient(site)
    assert evaluate_patient(patient.id) == []


def test_progressing_study_raises_alerts_once_with_notifications(site, radiologist):
    patient = surveillance_patient(site)
    study = finalize_progressing(patient, radiologist)
    created = evaluate_patient(patient.id)
    assert rules_of(patient) == ["calc_extent_increase", "calc_morphology_worse"]
    assert {a.study_id for a in created} == {study.id}
    extent = Alert.objects.get(rule="calc_extent_increase")
    assert extent.reason.startswith("extent 18 mm → 33 mm, +15 mm / +83% over nadir of 18 mm")
    assert extent.dedup_key == f"{patient.id}:calc_extent_increase:left:study:{study.id}"
    # High severity only: one email row per radiologist of the site.
    assert list(Notification.objects.values_list("alert__rule", "address")) == [
        ("calc_morphology_worse", radiologist.email)]
    assert evaluate_patient(patient.id) == []
    assert Alert.objects.count() == 2 and Notification.objects.count() == 1


def test_mri_alerts_from_the_database(site, radiologist):
    patient = surveillance_patient(site)
    enhancing_mri(patient, radiologist)
    evaluate_patient(patient.id)
    assert rules_of(patient) == ["mri_new_enhancement", "mri_washout"]


def test_radiologists_of_other_sites_are_not_notified(site, radiologist, outsider, clinic_staff):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    assert set(Notification.objects.values_list("address", flat=True)) == {radiologist.email}


def test_finalizing_writes_an_outbox_row_enqueued_after_commit(site, radiologist,
                                                              django_capture_on_commit_callbacks):
    patient = surveillance_patient(site)
    with mock.patch.object(outbox_tasks.process_event, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            study = finalize_progressing(patient, radiologist)
    row = Event.objects.get(object_id=study.id)
    delay.assert_called_once_with(row.id)


def test_broker_down_at_commit_is_logged_and_the_save_stands(site, radiologist, caplog,
                                                            django_capture_on_commit_callbacks):
    patient = surveillance_patient(site)
    with mock.patch.object(outbox_tasks.process_event, "delay", side_effect=OSError("Connection refused")):
        with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.WARNING):
            study = finalize_progressing(patient, radiologist)
    study.refresh_from_db()
    assert study.is_final
    assert Event.objects.get(object_id=study.id).processed_at is None
    assert "the sweep will pick it up" in caplog.text
    assert patient.family_name not in caplog.text and patient.mrn not in caplog.text


def test_outbox_row_is_processed_once(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    row = Event.objects.get()
    assert event_process(row.id) is True
    assert event_process(row.id) is False
    row.refresh_from_db()
    assert row.processed_at is not None and row.attempts == 1
    assert Alert.objects.count() == 2


def test_failed_evaluation_unclaims_the_row_and_records_the_error(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    row = Event.objects.get()
    with mock.patch("alerts.evaluation.evaluate_patient", side_effect=RuntimeError("db gone")):
        with pytest.raises(RuntimeError):
            event_process(row.id)
    row.refresh_from_db()
    assert row.processed_at is None and row.attempts == 1
    assert row.last_error == "RuntimeError: db gone"
    assert Alert.objects.count() == 0
    assert event_process(row.id) is True and Alert.objects.count() == 2


def test_one_bad_row_does_not_stop_the_sweep(site, radiologist):
    patients = [surveillance_patient(site) for _ in range(3)]
    for p in patients:
        finalize_progressing(p, radiologist)
    real = evaluate_patient

    def flaky(patient_id, **kw):
        if patient_id == patients[0].id:
            raise RuntimeError("bad data")
        return real(patient_id, **kw)

    with mock.patch("alerts.evaluation.evaluate_patient", side_effect=flaky):
        assert events_sweep() == (2, 1)
    assert Alert.objects.filter(patient__in=patients[1:]).count() == 4
    assert Event.objects.filter(processed_at=None).count() == 1
    assert events_sweep() == (1, 0)
    assert Alert.objects.count() == 6


def test_sweep_tasks_process_events_and_requeue_unsent_notifications(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    with mock.patch.object(tasks.send_notification, "delay") as delay:
        assert outbox_tasks.sweep_outbox.run() == {"processed": 1, "failed": 0}
        delay.reset_mock()  # the evaluation queued its email after commit
        assert tasks.sweep_notifications.run() == {"notifications": 1}
    delay.assert_called_once_with(Notification.objects.get().id)


def test_task_retries_with_backoff_when_evaluation_fails(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    row = Event.objects.get()
    with mock.patch("alerts.evaluation.evaluate_patient", side_effect=RuntimeError("x")), \
            mock.patch.object(outbox_tasks.process_event, "retry",
                              side_effect=RuntimeError("retry")) as retry:
        with pytest.raises(RuntimeError, match="retry"):
            outbox_tasks.process_event.run(row.id)
    assert retry.call_args.kwargs["countdown"] == 10
    assert [backoff(n) for n in (0, 1, 2, 10)] == [10, 20, 40, 600]


def test_thresholds_change_is_audited_and_applied(site, radiologist, site_admin,
                                                  django_capture_on_commit_callbacks):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist, rows=[
        {"group": "L1", "laterality": "left", "morphology": "fine_pleomorphic",
         "distribution": "segmental", "extent_mm": 21, "count_bin": ">20",
         "inside_tumor_bed": True}])
    assert evaluate_patient(patient.id) == []  # +3 mm: under the default 5 mm
    with mock.patch.object(tasks.reevaluate_cohort, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            change = thresholds_update(by=site_admin, values={"extent_mm": 3, "extent_percent": 10},
                                       note="tighter for the audit")
    delay.assert_called_once_with(site_admin.pk)
    assert change.changed_by == site_admin and change.note == "tighter for the audit"
    assert change.before["extent_mm"] == 5.0 and change.after["extent_mm"] == 3.0
    assert change.after["extent_percent"] == 10.0
    assert AlertSettings.current().thresholds().extent_mm == 3.0
    assert [a.rule for a in evaluate_patient(patient.id)] == ["calc_extent_increase"]
    assert thresholds_update(by=site_admin, values={"extent_mm": 3}) is None
    assert ThresholdChange.objects.count() == 1


def test_invalid_thresholds_change_nothing(site_admin):
    with pytest.raises(ValidationError):
        thresholds_update(by=site_admin, values={"extent_mm": -1})
    with pytest.raises(ValidationError):
        thresholds_update(by=site_admin, values={"speed": 3})
    assert AlertSettings.current().extent_mm == 5
    assert ThresholdChange.objects.count() == 0


def test_reevaluation_chunk_counts_and_survives_a_failing_patient(site, radiologist):
    patients = [surveillance_patient(site) for _ in range(3)]
    for p in patients[:2]:
        finalize_progressing(p, radiologist)
    run = Reevaluation.objects.create(chunk_size=3, total_patients=3)
    real = evaluation.evaluate

    def flaky(history, *args, **kw):
        if history.patient_id == patients[0].id:
            raise RuntimeError("bad data")
        return real(history, *args, **kw)

    with mock.patch("alerts.evaluation.evaluate", side_effect=flaky):
        assert reevaluate_chunk(run.id, [p.id for p in patients]) == (2, 1)
    run.refresh_from_db()
    assert (run.done_patients, run.failed_patients, run.alerts_created) == (3, 1, 2)
    assert run.finished_at is not None


def test_reevaluate_command_in_process_reports_progress(site, radiologist, capsys):
    patients = [surveillance_patient(site, years=[2016, 2017]) for _ in range(5)]
    finalize_progressing(patients[2], radiologist)
    call_command("reevaluate_alerts", "--chunk-size", "2", "--in-process")
    out, err = capsys.readouterr()
    assert "5 patients in 3 chunk(s) of up to 2" in out
    assert "Done: 5 patients evaluated, 0 failed, 2 new alert(s)." in out
    assert "5/5" in err  # the tqdm bar
    assert Alert.objects.filter(patient=patients[2]).count() == 2


def test_cohort_task_splits_patients_into_chunk_tasks(site):
    patients = [surveillance_patient(site, years=[2016]) for _ in range(5)]
    with mock.patch.object(tasks.reevaluate_patients, "delay") as delay:
        run_id = tasks.reevaluate_cohort.run(None, 2)
    ids = [p.id for p in patients]
    assert [c.args for c in delay.call_args_list] == [
        (run_id, ids[0:2]), (run_id, ids[2:4]), (run_id, ids[4:5])]
    assert Reevaluation.objects.get(id=run_id).total_patients == 5


def test_run_periodic_once_sweeps(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    with mock.patch.object(tasks.send_notification, "delay"):
        call_command("run_periodic", "--once")
    assert Event.objects.filter(processed_at=None).count() == 0
    assert Alert.objects.count() == 2


def test_deleted_patient_evaluates_to_nothing():
    assert evaluate_patient(987654) == []


def test_eager_demo_mode_evaluates_after_commit(site, radiologist, django_capture_on_commit_callbacks):
    """`make run` without Redis sets CELERY_TASK_ALWAYS_EAGER: the on-commit dispatch
    then evaluates in-process. (Only this test uses eager mode: it is what it tests.)"""
    from tracker.celery import app

    patient = surveillance_patient(site)
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            finalize_progressing(patient, radiologist)
    finally:
        app.conf.task_always_eager = False
    assert rules_of(patient) == ["calc_extent_increase", "calc_morphology_worse"]
    assert Event.objects.get().processed_at is not None
    assert Notification.objects.get().status == "sent"


def test_amending_a_study_reevaluates_the_patient(site, radiologist):
    from imaging.services import study_amend
    from tests.alerts.builders import calc_row, progressing_draft

    patient = surveillance_patient(site)
    draft = progressing_draft(patient, radiologist, rows=[calc_row(extent=19,
                                                                   morphology="fine_pleomorphic")])
    from imaging.services import study_finalize

    study = study_finalize(study=draft, by=radiologist)
    events_sweep()
    assert rules_of(patient) == []
    study_amend(study=study, by=radiologist, reason="Extent re-measured", data={},
                calcifications=[calc_row(extent=30, morphology="fine_pleomorphic")],
                enhancements=[])
    assert Event.objects.filter(kind="study_amended", processed_at=None).count() == 1
    events_sweep()
    assert rules_of(patient) == ["calc_extent_increase"]


def test_thresholds_are_edited_in_the_admin_with_an_audit(client, site_admin):
    client.force_login(site_admin)
    AlertSettings.current()
    url = "/admin/alerts/alertsettings/1/change/"
    assert client.get(url).status_code == 200
    with mock.patch.object(tasks.reevaluate_cohort, "delay"):
        response = client.post(url, {"extent_mm": "4", "extent_percent": "20",
                                     "lesion_growth_mm": "5", "lesion_growth_percent": "25"})
    assert response.status_code == 302
    change = ThresholdChange.objects.get()
    assert change.changed_by == site_admin
    assert (change.before["extent_mm"], change.after["extent_mm"]) == (5.0, 4.0)
    assert change.after["lesion_growth_percent"] == 25.0
    assert client.get("/admin/alerts/thresholdchange/").status_code == 200


def test_evaluating_one_new_study_stays_within_ten_queries(site, radiologist):
    """Issue 9: history, thresholds, raised alerts — whatever the history's length. The
    event's processing adds its claim and the surveillance plan's matching."""
    patient = surveillance_patient(site, years=range(2010, 2019))
    finalize_progressing(patient, radiologist)
    event_process(Event.objects.get().id)  # raises the two alerts
    # A stable follow-up mammogram: the calcifications are gone, nothing new to raise.
    study = finalize_progressing(patient, radiologist, when=date(2021, 6, 15), rows=[])
    event = Event.objects.get(object_id=study.id)
    with CaptureQueriesContext(connection) as ctx:
        evaluate_after_signing(event)
    assert len(ctx.captured_queries) <= 10, [q["sql"] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        assert event_process(event.id) is True
    # SAVEPOINTs come from the test's own transaction; in the worker the block is outermost.
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) <= 30, sql


def test_reevaluation_of_a_chunk_costs_a_fixed_number_of_queries(site, radiologist,
                                                                 django_assert_max_num_queries):
    patients = [surveillance_patient(site) for _ in range(6)]
    for p in patients:
        finalize_progressing(p, radiologist)
    ids = [p.id for p in patients]
    assert reevaluate_chunk(None, ids) == (12, 0)
    # Nothing new: histories (7) + thresholds (1) + raised alerts (1), not per patient.
    with django_assert_max_num_queries(9):
        assert reevaluate_chunk(None, ids) == (0, 0)


def test_a_failing_batch_falls_back_to_one_patient_at_a_time(site, radiologist):
    patients = [surveillance_patient(site) for _ in range(2)]
    for p in patients:
        finalize_progressing(p, radiologist)
    with mock.patch("alerts.evaluation.load_histories", side_effect=RuntimeError("too big")):
        assert reevaluate_chunk(None, [p.id for p in patients]) == (4, 0)
    assert Alert.objects.count() == 4


def test_an_amendment_supersedes_what_no_longer_holds_and_reinstates_what_holds_again(
        site, radiologist):
    from alerts.selectors import alerts_for
    from audit.models import Action, AuditEvent
    from imaging.services import study_amend
    from tests.alerts.builders import calc_row

    patient = surveillance_patient(site)
    study = finalize_progressing(patient, radiologist)
    event_process(Event.objects.get(object_id=study.id).id)
    extent = Alert.objects.get(rule="calc_extent_increase")
    study_amend(study=study, by=radiologist, reason="measured the wrong group", data={},
                calcifications=[calc_row(extent=19, morphology="fine_pleomorphic")], enhancements=[])
    event_process(Event.objects.get(object_id=study.id, kind=Event.Kind.STUDY_AMENDED).id)
    extent.refresh_from_db()
    assert Alert.objects.count() == 2  # kept, never deleted
    assert set(Alert.objects.values_list("state", flat=True)) == {"superseded"}
    assert extent.superseded_reason == ("No longer supported by the signed history after a study "
                                        "was amended.")
    assert AuditEvent.objects.filter(action=Action.ALERT_TRANSITION, object_id=str(extent.pk)).exists()
    # Not in the inbox's default (open or acknowledged) list; under "superseded".
    assert not alerts_for(radiologist).exists()
    assert alerts_for(radiologist, state="superseded").count() == 2
    study_amend(study=study, by=radiologist, reason="it was the right group", data={},
                calcifications=[calc_row()], enhancements=[])
    evaluate_patient(patient.id)
    extent.refresh_from_db()
    assert extent.state == "open" and not extent.superseded_reason and Alert.objects.count() == 2


def test_a_resolved_extent_alert_restarts_the_comparison_from_its_exam(site, radiologist):
    """One change, one alert: while the 33 mm alert is open, 22 → 33 mm is no new change;
    once the radiologist resolved it, the nadir is taken from the resolved exam on."""
    from alerts.services import alert_resolve
    from tests.alerts.builders import calc_row

    patient = surveillance_patient(site)  # L1 at 18 mm, 2015–2018
    finalize_progressing(patient, radiologist)  # 2020: 33 mm, fine linear branching
    evaluate_patient(patient.id)
    for when, extent in ((date(2021, 6, 15), 22), (date(2022, 6, 15), 33)):
        finalize_progressing(patient, radiologist, when=when, rows=[calc_row(extent=extent)])
        evaluate_patient(patient.id)
    assert Alert.objects.filter(rule="calc_extent_increase").count() == 1
    first = Alert.objects.get(rule="calc_extent_increase")
    alert_resolve(alert=first, by=radiologist, resolution="benign_no_action")
    created = evaluate_patient(patient.id)
    assert [(a.rule, a.study.study_date) for a in created] == [
        ("calc_extent_increase", date(2022, 6, 15))]  # 22 → 33 mm over the new nadir
    assert "over nadir of 22 mm" in created[0].reason
