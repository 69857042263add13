"""The timeline selector reads everything in two queries and gives what the prefetches gave."""

from datetime import date

import pytest
from django.db.models import Prefetch

from alerts.models import Alert
from clinic.selectors import patient_timeline
from imaging.history import history_from_patient, history_prefetches, load_history
from imaging.records import patient_records, with_records
from patients.models import ClinicalEvent, ClinicVisit, Patient, Surgery
from tests.browser.case_report import case_report_patient
from tests.patients.factories import ClinicVisitFactory, UserFactory

pytestmark = pytest.mark.django_db


def fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def patient(site):
    patient = case_report_patient(site)
    author = UserFactory(username="author", first_name="Lea", last_name="Nurse")
    ClinicVisitFactory(patient=patient, date=date(2016, 3, 1), recorded_by=author, findings="well")
    ClinicVisitFactory(patient=patient, date=date(2016, 3, 1))
    ClinicalEvent.objects.create(patient=patient, date=date(2020, 1, 1), kind="contralateral")
    last = patient.studies.order_by("study_date").last()
    Alert.objects.create(patient=patient, rule="calc_extent_increase", severity="medium", study=last,
                         dedup_key="k1", reason="Extent grew")
    Alert.objects.create(patient=patient, rule="surveillance_overdue", severity="medium",
                         dedup_key="k2", reason="Overdue")
    return patient


def test_timeline_reads_the_patient_and_each_kind_of_row_in_one_query(clinic_staff, patient,
                                                                      django_assert_num_queries):
    # The patient with site, tumour, contact and plan (1); studies, findings (2),
    # surgeries with pathology, RT, NAC, visits, events, open alerts, exams (1 each).
    with django_assert_num_queries(11):
        timeline = patient_timeline(user=clinic_staff, uuid=patient.uuid)
    with django_assert_num_queries(0):  # nothing left to load lazily
        assert (timeline.tumour.subtype, timeline.pathology.pcr, timeline.patient.site.name) == (
            "HR+/HER2+", True, "North Clinic")
        assert [v.recorded_by and v.recorded_by.username for v in timeline.visits] == [None, "author"]
        assert [a.study and a.study.phase for a in timeline.open_alerts] == [None, "surveillance"]


def test_timeline_equals_what_the_prefetches_gave(clinic_staff, patient):
    timeline = patient_timeline(user=clinic_staff, uuid=patient.uuid)
    old = Patient.objects.select_related("site", "tumour").prefetch_related(
        *[p for p in history_prefetches() if p != "surgeries"],
        Prefetch("surgeries", queryset=Surgery.objects.select_related("pathology")),
        Prefetch("visits", queryset=ClinicVisit.objects.select_related("recorded_by")), "events",
    ).get(pk=patient.pk)

    assert timeline.history == history_from_patient(old) == load_history(patient.pk)
    assert [fields(r.study) for r in timeline.studies] == [fields(s) for s in reversed(old.studies.all())]
    assert [[fields(c) for c in r.calcifications] for r in timeline.studies] == [
        [fields(c) for c in s.calcifications.all()] for s in reversed(old.studies.all())]
    assert [[fields(e) for e in r.enhancements] for r in timeline.studies] == [
        [fields(e) for e in s.enhancements.all()] for s in reversed(old.studies.all())]
    assert any(r.calcifications for r in timeline.studies) and any(r.enhancements for r in timeline.studies)
    assert [fields(s) for s in timeline.surgeries] == [fields(s) for s in old.surgeries.all()]
    assert fields(timeline.pathology) == fields(old.surgeries.all()[0].pathology)
    for mine, theirs in (("nac_courses", old.nac_courses), ("radiotherapy", old.radiotherapy),
                         ("events", old.events)):
        assert [fields(x) for x in getattr(timeline, mine)] == [fields(x) for x in theirs.all()], mine
    assert [fields(v) for v in timeline.visits] == [fields(v) for v in reversed(old.visits.all())]
    assert [v.recorded_by and v.recorded_by.username for v in timeline.visits] == [None, "author"]
    expected_alerts = Alert.objects.filter(patient=patient, state="open").order_by("-created_at", "-id")
    assert [a.id for a in timeline.open_alerts] == [a.id for a in expected_alerts]
    assert [a.study_id for a in timeline.open_alerts] == [a.study_id for a in expected_alerts]
    assert timeline.open_alerts[1].study.uuid == old.studies.all()[len(old.studies.all()) - 1].uuid


def test_timeline_is_404_outside_the_users_sites(outsider, patient):
    from django.http import Http404

    with pytest.raises(Http404):
        patient_timeline(user=outsider, uuid=patient.uuid)


def test_records_of_a_patient_in_a_query_per_table(patient, django_assert_num_queries):
    with django_assert_num_queries(7):
        patient = with_records(Patient.objects.filter(pk=patient.pk)).get()
        records = patient_records(patient)
    assert records.history(patient) == load_history(patient.pk)
    days = [r.study.study_date for r in records.studies]
    assert days == sorted(days) and len(days) == 40


VOIDABLE = {
    "Surgery": lambda p: p.surgeries.get(),
    "NAC course": lambda p: p.nac_courses.order_by("start_date").first(),
    "Radiotherapy": lambda p: p.radiotherapy.get(),
    "Clinic visit": lambda p: p.visits.order_by("date", "id").first(),
    "Outcome event": lambda p: p.events.get(),
    "Imaging study": lambda p: p.studies.order_by("study_date").last(),
}


@pytest.mark.parametrize("kind", VOIDABLE)
def test_a_voided_record_of_each_kind_is_only_in_the_struck_through_list(clinic_staff, patient, kind,
                                                                         django_assert_num_queries):
    """The prefetches read voided rows too and set them apart (imaging.records): none reaches
    the lists, the history or the chart; each is listed with its reason, in a 12th query."""
    from core.voiding import void_record

    record = VOIDABLE[kind](patient)
    void_record(record, by=clinic_staff, reason="Typed on the wrong patient")
    with django_assert_num_queries(12):
        timeline = patient_timeline(user=clinic_staff, uuid=patient.uuid)
    shown = [row.study for row in timeline.studies] + timeline.surgeries + timeline.nac_courses \
        + timeline.radiotherapy + timeline.visits + timeline.events
    assert record.pk not in {r.pk for r in shown if type(r) is type(record)}
    assert all(r.voided_at is None for r in shown)
    history = timeline.history
    assert record.pk not in {s.id for s in history.studies} if kind == "Imaging study" else True
    [voided] = timeline.voided
    assert (voided.kind, voided.reason, voided.voided_by) == (kind, "Typed on the wrong patient",
                                                              clinic_staff.username)


def test_a_patient_with_nothing_voided_costs_no_query_for_it(clinic_staff, patient,
                                                             django_assert_num_queries):
    with django_assert_num_queries(11):
        assert patient_timeline(user=clinic_staff, uuid=patient.uuid).voided == []
