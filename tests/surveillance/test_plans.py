"""Plan generation and regeneration, and matching studies and visits to items."""

from datetime import date

import pytest
import time_machine

from alerts.models import Alert
from patients.models import Patient, Radiotherapy, Surgery
from surveillance.models import ContactLog, PatientPlan, Protocol, ScheduledItem
from surveillance.selectors import plan_for_patient
from surveillance.services.plans import plan_regenerate, plans_refresh_stale, stale_plan_patient_ids
from tests.patients.factories import PatientFactory

from .helpers import amended, case_report_patient, exam, mammogram, mri, recorded

pytestmark = pytest.mark.django_db
KINDS = ScheduledItem.Kind


def items_of(patient, **filters):
    return ScheduledItem.objects.filter(patient=patient, **filters)


@pytest.fixture
def patient(site, on_commit):
    with time_machine.travel(date(2016, 9, 20), tick=False), on_commit():
        return case_report_patient(site)


def test_recording_surgery_generates_the_ten_year_plan(patient):
    plan = PatientPlan.objects.get(patient=patient)
    assert plan.protocol.is_default and plan.ends_on == date(2026, 9, 15)
    assert plan.high_risk and "diagnosed at 50 or younger" in plan.high_risk_reasons
    counts = {k: items_of(patient, kind=k).count() for k in KINDS.values}
    assert counts == {"clinical_exam": 17, "mammogram": 10, "diagnostic_mammogram": 4, "mri": 9}


def test_no_surgery_no_plan(site, on_commit):
    with on_commit():
        patient = PatientFactory(site=site)
        patient.notes = "seen"
        recorded(patient)
    assert not ScheduledItem.objects.filter(patient=patient).exists()
    assert not PatientPlan.objects.filter(patient=patient).exists()


def test_changing_rt_end_moves_future_items_and_keeps_done_ones_with_their_links(patient, on_commit):
    with time_machine.travel(date(2017, 5, 20), tick=False), on_commit():
        study = mammogram(patient, date(2017, 5, 18))
        visit = exam(patient, date(2017, 5, 15))
    done = set(items_of(patient, status="done").values_list("id", "study_id",
                                                                                     "visit_id", "due_date"))
    assert {(d[1], d[2]) for d in done} >= {(study.id, None), (None, visit.id)}
    first_future_mammo = items_of(patient, kind=KINDS.MAMMOGRAM,
                                                      status="pending").first()
    assert first_future_mammo.due_date == date(2018, 5, 18)
    with time_machine.travel(date(2017, 6, 1), tick=False), on_commit():
        rt = Radiotherapy.objects.get(patient=patient)
        rt.end_date = date(2016, 12, 20)  # corrected: first mammogram was due 20 June 2017
        recorded(rt)
    assert set(items_of(patient, status="done").values_list(
        "id", "study_id", "visit_id", "due_date")) == done
    first_future_mammo.refresh_from_db()  # same row (keeps its id and log), new date
    assert first_future_mammo.due_date == date(2018, 6, 20)


def test_risk_flag_added_later_gives_the_plan_of_a_patient_with_the_flag(site, on_commit):
    with time_machine.travel(date(2018, 1, 10), tick=False), on_commit():
        patient = case_report_patient(site, surgery=date(2017, 2, 1), residual=False,
                                      date_of_birth=date(1950, 1, 1))
    assert not items_of(patient, kind=KINDS.MRI).exists()
    with time_machine.travel(date(2020, 3, 1), tick=False), on_commit():
        patient.pathogenic_variant = True
        recorded(patient)
    # The plan a patient registered with the flag would have: the MRIs from the first one
    # on; those already past are stamped with their natural dates (no alert, no digest).
    mris = items_of(patient, kind=KINDS.MRI)
    assert min(mris.values_list("due_date", flat=True)) < date(2020, 3, 1)
    assert not Alert.objects.filter(patient=patient).exists()
    assert all(i.became_overdue_on == i.overdue_after for i in mris if i.overdue_after < date(2020, 2, 1))
    assert "pathogenic variant" in PatientPlan.objects.get(patient=patient).high_risk_reasons
    with time_machine.travel(date(2021, 3, 1), tick=False), on_commit():
        patient.pathogenic_variant = False
        recorded(patient)
    # A fresh patient without the flag has no MRI: the past one, never done, was planned
    # from a flag that no longer holds, so it is superseded rather than left as missed.
    assert not items_of(patient, kind=KINDS.MRI).exists()


def test_dense_breasts_on_the_latest_mammogram_make_a_patient_high_risk(site, on_commit):
    with time_machine.travel(date(2018, 1, 10), tick=False), on_commit():
        patient = case_report_patient(site, surgery=date(2017, 2, 1), residual=False,
                                      date_of_birth=date(1950, 1, 1))
        mammogram(patient, date(2018, 1, 5), composition="d")
    assert PatientPlan.objects.get(patient=patient).high_risk_reasons == "breast composition d"
    assert items_of(patient, kind=KINDS.MRI).exists()


def test_surplus_future_item_with_a_contact_log_is_superseded_not_deleted(patient, coordinator, on_commit):
    with time_machine.travel(date(2020, 3, 1), tick=False):
        mri_item = items_of(patient, kind=KINDS.MRI, due_date__gt=date(2020, 3, 1)).first()
        ContactLog.objects.create(item=mri_item, patient=patient, outcome="letter_sent", by=coordinator)
        with on_commit():
            patient.date_of_birth = date(1950, 1, 1)  # data-entry error corrected: not high-risk
            recorded(patient)
    mri_item.refresh_from_db()
    assert mri_item.status == "superseded" and "superseded" in mri_item.cancel_reason
    assert not ScheduledItem.objects.filter(id=mri_item.id).exists()  # out of every list
    assert mri_item.contacts.count() == 1
    assert not items_of(patient, kind=KINDS.MRI, status="pending",
                                            due_date__gt=date(2020, 3, 1)).exists()


def test_protocol_change_regenerates_future_items_of_its_patients(patient, on_commit):
    with time_machine.travel(date(2019, 1, 1), tick=False):
        protocol = Protocol.objects.get(is_default=True)
        protocol.exam_late_interval_months = 6
        protocol.save()
        assert stale_plan_patient_ids() == [patient.id]
        plans_refresh_stale()
        assert stale_plan_patient_ids() == []
    late_exams = items_of(patient, kind=KINDS.CLINICAL_EXAM,
                                              due_date__gt=date(2021, 9, 15))
    assert late_exams.count() == 10  # every 6 months in years 6–10 instead of yearly
    assert PatientPlan.objects.get(patient=patient).protocol_version == protocol.version


def test_a_site_protocol_overrides_the_default(patient, site):
    with time_machine.travel(date(2019, 1, 1), tick=False):
        Protocol.objects.create(name="North", site=site, mammo_interval_months=24)
        plans_refresh_stale()
    plan = PatientPlan.objects.get(patient=patient)
    assert plan.protocol.site == site
    future = items_of(patient, kind=KINDS.MAMMOGRAM, due_date__gt=date(2019, 1, 1))
    dates = list(future.values_list("due_date", flat=True))
    assert all((b - a).days > 700 for a, b in zip(dates, dates[1:], strict=False))


def test_sweep_safety_net_catches_anchor_changes_made_without_events(patient):
    Surgery.objects.filter(patient=patient).update(date=date(2016, 10, 15))  # no outbox event
    assert stale_plan_patient_ids() == [patient.id]


def test_deceased_patient_future_items_are_cancelled(patient, on_commit):
    with time_machine.travel(date(2020, 3, 1), tick=False), on_commit():
        patient.follow_up_status = "deceased"
        recorded(patient)
    assert not items_of(patient, status="pending", due_date__gt=date(2020, 3, 1)).exists()
    assert items_of(patient, status="pending", due_date__lte=date(2020, 3, 1)).exists()


def test_study_outside_every_window_is_kept_and_shown_unmatched(patient, on_commit):
    with time_machine.travel(date(2017, 6, 1), tick=False), on_commit():
        matched = mammogram(patient, date(2017, 5, 20))
        extra = mri(patient, date(2016, 10, 1))  # MRI before the first MRI window: matches nothing
    view = plan_for_patient(Patient.objects.get(id=patient.id), as_of=date(2017, 6, 1))
    assert [s.id for s in view.unmatched] == [extra.id]
    assert ScheduledItem.objects.filter(study=matched, kind=KINDS.MAMMOGRAM).exists()


def test_amended_study_date_outside_the_window_unlinks_and_rematches(patient, on_commit):
    with time_machine.travel(date(2018, 6, 1), tick=False), on_commit():
        study = mammogram(patient, date(2017, 5, 18))
    item = ScheduledItem.objects.get(study=study, kind=KINDS.MAMMOGRAM)
    with time_machine.travel(date(2018, 6, 1), tick=False), on_commit():
        study.study_date = date(2018, 5, 20)
        study.save()
        amended(study)
    item.refresh_from_db()
    assert item.status == "pending" and item.study is None
    assert ScheduledItem.objects.get(study=study, kind=KINDS.MAMMOGRAM).due_date == date(2018, 5, 18)


def test_unilateral_mammogram_does_not_fulfil_a_bilateral_item(patient, on_commit):
    with time_machine.travel(date(2017, 6, 1), tick=False), on_commit():
        study = mammogram(patient, date(2017, 5, 18), laterality="right")
    assert not ScheduledItem.objects.filter(study=study).exists()


def test_telephone_consultation_is_not_a_clinical_exam(patient, on_commit):
    from tests.patients.factories import ClinicVisitFactory

    with time_machine.travel(date(2017, 2, 1), tick=False), on_commit():
        visit = recorded(ClinicVisitFactory.build(patient=patient, date=date(2017, 1, 15), kind="telephone"))
    assert not ScheduledItem.objects.filter(visit=visit).exists()


def test_plan_regenerate_is_idempotent(patient):
    with time_machine.travel(date(2018, 1, 1), tick=False):
        counts = plan_regenerate(patient)
    assert counts["created"] == counts["updated"] == counts["removed"] == counts["cancelled"] == 0


def test_the_timeline_reads_the_plan_that_plan_for_patient_gives(patient, clinic_staff, on_commit,
                                                                 django_assert_num_queries):
    """The timeline page builds the plan from the rows it read with the patient's record."""
    from django.template.loader import render_to_string

    from clinic.selectors import patient_timeline

    with time_machine.travel(date(2017, 6, 1), tick=False), on_commit():
        mammogram(patient, date(2017, 5, 20))
        mri(patient, date(2016, 10, 1))  # before the first MRI window: unmatched
        exam(patient, date(2017, 1, 20))
    as_of = date(2017, 6, 1)
    expected = plan_for_patient(Patient.objects.get(id=patient.id), as_of=as_of)
    timeline = patient_timeline(user=clinic_staff, uuid=patient.uuid)
    with django_assert_num_queries(0):
        view = timeline.surveillance_plan(as_of=as_of)
        html = render_to_string("surveillance/_patient_plan.html", {"plan": view})

    def shape(v):
        items = [[(i.id, i.current_state, i.missed, i.study_id, i.visit_id) for i in part]
                 for part in (v.past, v.open, v.upcoming)]
        return v.plan.id, v.plan.protocol.name, items, [s.id for s in v.unmatched]

    assert shape(view) == shape(expected)
    assert html == render_to_string("surveillance/_patient_plan.html", {"plan": expected})
    assert view.unmatched and view.upcoming and any(i.study_id for i in view.past)
    assert any(i.visit_id for i in view.past)


def test_the_plan_tables_say_how_each_item_ended(patient, on_commit):
    """Past items: done (with the study's modality, a visit, or elsewhere), cancelled with
    its reason, or missed; open items due or overdue; upcoming ones by exam and breast."""
    from django.template.loader import render_to_string

    with time_machine.travel(date(2017, 6, 1), tick=False), on_commit():
        mammogram(patient, date(2017, 5, 20))
        exam(patient, date(2017, 1, 20))
    pending = items_of(patient, status="pending").order_by("due_date")
    elsewhere, cancelled = pending[0], pending[1]
    ScheduledItem.objects.filter(id=elsewhere.id).update(status="done", done_on=date(2017, 7, 1),
                                                         done_source="elsewhere")
    ScheduledItem.objects.filter(id=cancelled.id).update(status="cancelled", cancel_reason="Moved away")
    view = plan_for_patient(Patient.objects.get(id=patient.id), as_of=date(2019, 1, 1))
    assert any(line["done_with"] == "Mammography" and line["status"] == "done"
               for line in view.past_lines)
    assert any(line["done_with"] == "visit" for line in view.past_lines)
    assert {"done_on": "1 Jul 2017", "done_with": "elsewhere"}.items() <= next(
        line for line in view.past_lines if line["done_on"] == "1 Jul 2017").items()
    assert any(line["status"] == "pending" for line in view.past_lines)  # missed
    assert all(line["due"] for line in view.past_lines)
    assert {line["exam"] for line in view.upcoming_lines} == {"Clinical exam", "Mammogram (bilateral)",
                                                             "MRI (bilateral)"}
    html = render_to_string("surveillance/_patient_plan.html", {"plan": view})
    assert "done 1 Jul 2017</span> elsewhere" in html
    assert "cancelled</span> <span class=\"muted\">Moved away</span>" in html
    assert "missed" in html and "done 20 May 2017</span> Mammography" in html
