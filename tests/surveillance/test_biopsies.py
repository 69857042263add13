"""Biopsy follow-through: resolving an alert as biopsy ordered opens a follow-up, which is
overdue without a result after 30 days; a malignant result records an outcome event."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from alerts.models import Alert
from alerts.services import alert_resolve
from patients import vocabulary as pv
from patients.models import ClinicalEvent
from surveillance.models import BiopsyFollowUp
from surveillance.services.biopsies import (
    RESULT_DUE_DAYS,
    biopsy_follow_ups_open,
    biopsy_overdue_sweep,
    biopsy_result_record,
)
from surveillance.services.sweep import surveillance_sweep
from surveillance.tasks import biopsy_follow_through
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import PatientFactory

ORDERED = date(2026, 3, 2)


def alert_for(patient, key="a1", rule="birads_suspicious"):
    study = ImagingStudyFactory(patient=patient, final=True, birads="4B", study_date=date(2026, 2, 20))
    return Alert.objects.create(patient=patient, rule=rule, severity="high", breast="left", study=study,
                                dedup_key=key, reason="BI-RADS 4B after surgery")


@pytest.fixture
def ordered(site, radiologist):
    """An alert resolved as biopsy ordered on 2 March 2026, its follow-up opened."""
    patient = PatientFactory(site=site)
    alert = alert_for(patient)
    with time_machine.travel(datetime(2026, 3, 2, 10, tzinfo=UTC), tick=False):
        alert_resolve(alert=alert, by=radiologist, resolution="biopsy_ordered", note="US-guided core")
        biopsy_follow_through()
    return BiopsyFollowUp.objects.get(alert=alert)


def test_resolving_as_biopsy_ordered_opens_one_follow_up(ordered):
    assert ordered.ordered_on == ORDERED
    assert ordered.due_date == ORDERED + timedelta(days=RESULT_DUE_DAYS)
    assert ordered.patient_id == ordered.alert.patient_id
    assert ordered.state(ORDERED) == "awaiting"
    assert biopsy_follow_ups_open() == 0  # idempotent
    assert BiopsyFollowUp.objects.count() == 1


@pytest.mark.parametrize("resolution", ["short_interval_follow_up", "benign_no_action", "false_positive"])
def test_other_resolutions_open_nothing(site, radiologist, resolution):
    alert = alert_for(PatientFactory(site=site))
    alert_resolve(alert=alert, by=radiologist, resolution=resolution)
    assert biopsy_follow_ups_open() == 0


@pytest.mark.parametrize(("days_after_due", "overdue"), [(-1, False), (0, False), (1, True), (40, True)])
def test_overdue_the_day_after_the_due_date(ordered, days_after_due, overdue):
    as_of = ordered.due_date + timedelta(days=days_after_due)
    assert ordered.state(as_of) == ("overdue" if overdue else "awaiting")
    assert biopsy_overdue_sweep(as_of=as_of) == int(overdue)
    ordered.refresh_from_db()
    assert ordered.became_overdue_on == (as_of if overdue else None)
    assert biopsy_overdue_sweep(as_of=as_of + timedelta(days=2)) == int(not overdue)  # stamped once


def test_a_result_stops_it_going_overdue(ordered, coordinator):
    with time_machine.travel(datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=date(2026, 3, 12),
                             histology="benign")
    assert biopsy_overdue_sweep(as_of=ordered.due_date + timedelta(days=5)) == 0
    ordered.refresh_from_db()
    assert ordered.state(ordered.due_date + timedelta(days=5)) == "done"


def test_daily_sweep_opens_and_stamps(site, radiologist):
    alert = alert_for(PatientFactory(site=site))
    with time_machine.travel(datetime(2026, 1, 5, 10, tzinfo=UTC), tick=False):
        alert_resolve(alert=alert, by=radiologist, resolution="biopsy_ordered")
    counts = surveillance_sweep(as_of=date(2026, 2, 10))  # 36 days later, no result
    assert counts["biopsies_opened"] == 1 and counts["biopsies_overdue"] == 1
    assert BiopsyFollowUp.objects.get().became_overdue_on == date(2026, 2, 10)


@pytest.mark.parametrize(("histology", "event"), [
    ("invasive", True), ("dcis", True), ("benign", False), ("other", False)])
def test_malignant_result_records_a_confirmed_progression(ordered, coordinator, histology, event):
    with time_machine.travel(datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        follow_up = biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=date(2026, 3, 12),
                                         histology=histology)
    events = ClinicalEvent.objects.filter(patient=ordered.patient)
    from audit.models import AuditEvent

    change = AuditEvent.objects.get(object_type="surveillance.BiopsyFollowUp", action="update")
    assert change.changes["histology"] == {"before": "", "after": histology}
    assert change.patient_id == ordered.patient_id
    if event:
        (recorded,) = events
        assert recorded.kind == pv.EventKind.CONFIRMED_PROGRESSION
        assert recorded.date == date(2026, 3, 12)
        assert follow_up.event == recorded
    else:
        assert not events.exists() and follow_up.event is None


def test_correcting_the_result_keeps_the_event_in_step(ordered, coordinator):
    with time_machine.travel(datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=date(2026, 3, 12),
                             histology="invasive")
        biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=date(2026, 3, 13),
                             histology="dcis")
        assert ClinicalEvent.objects.get(patient=ordered.patient).date == date(2026, 3, 13)
        biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=date(2026, 3, 13),
                             histology="benign")
    assert not ClinicalEvent.objects.filter(patient=ordered.patient).exists()


@pytest.mark.parametrize(("biopsy_date", "histology", "field"), [
    (date(2026, 3, 1), "benign", "biopsy_date"),    # the day before the order
    (date(2026, 3, 21), "benign", "biopsy_date"),   # in the future
    (date(2026, 3, 12), "malignant", "histology"),  # not a choice
])
def test_bad_results_are_refused_and_nothing_written(ordered, coordinator, biopsy_date, histology, field):
    with time_machine.travel(datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        with pytest.raises(ValidationError) as exc:
            biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=biopsy_date,
                                 histology=histology)
    assert field in exc.value.message_dict
    ordered.refresh_from_db()
    assert ordered.histology == "" and not ClinicalEvent.objects.exists()


def test_first_day_counts_the_biopsy_on_the_day_of_the_order(ordered, coordinator):
    with time_machine.travel(datetime(2026, 3, 20, 12, tzinfo=UTC), tick=False):
        follow_up = biopsy_result_record(follow_up=ordered, by=coordinator, biopsy_date=ORDERED,
                                         histology="benign")
    assert follow_up.biopsy_date == ORDERED


def test_pages_list_and_record_a_result_scoped_to_the_sites(client, ordered, coordinator, outsider,
                                                            django_assert_max_num_queries):
    client.force_login(coordinator)
    with time_machine.travel(datetime(2026, 4, 10, 12, tzinfo=UTC), tick=False):
        with django_assert_max_num_queries(12):
            listing = client.get("/worklist/biopsies/")
        assert 'data-state="overdue"' in listing.content.decode()
        worklist = client.get("/worklist/").content.decode()
        assert "biopsy result overdue" in worklist
        url = f"/worklist/biopsies/{ordered.uuid}/"
        bad = client.post(url, {"biopsy_date": "", "histology": "invasive"})
        assert bad.status_code == 400 and "This field is required" in bad.content.decode()
        response = client.post(url, {"biopsy_date": "2026-03-20", "histology": "invasive", "note": "IDC"})
        assert response.status_code == 302
    ordered.refresh_from_db()
    assert ordered.histology == "invasive" and ordered.event is not None
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert str(ordered.uuid) not in client.get("/worklist/biopsies/").content.decode()


def test_list_query_count_does_not_grow(client, site, radiologist, coordinator,
                                        django_assert_max_num_queries):
    for i in range(15):
        alert = alert_for(PatientFactory(site=site), key=f"k{i}")
        alert_resolve(alert=alert, by=radiologist, resolution="biopsy_ordered")
    biopsy_follow_ups_open()
    client.force_login(coordinator)
    with django_assert_max_num_queries(12):
        response = client.get("/worklist/biopsies/")
    assert response.content.decode().count("Record result") == 15


def test_a_malignant_biopsy_is_an_event_of_the_cohorts_survival(site, radiologist, coordinator):
    from cohort.selectors import CohortFilters, SurvivalRow, survival_rows
    from tests.cohort import builders as b

    patient = b.patient(site, mg="pos")
    study = ImagingStudyFactory(patient=patient, final=True, birads="4C",
                                study_date=b.SURGERY + timedelta(days=700))
    alert = Alert.objects.create(patient=patient, rule="birads_suspicious", severity="high", study=study,
                                 dedup_key="surv", reason="BI-RADS 4C")
    alert_resolve(alert=alert, by=radiologist, resolution="biopsy_ordered")
    biopsy_follow_ups_open()
    follow_up = BiopsyFollowUp.objects.get(alert=alert)
    biopsy_result_record(follow_up=follow_up, by=coordinator, biopsy_date=follow_up.ordered_on,
                         histology="invasive")
    days = (follow_up.ordered_on - b.SURGERY).days
    assert survival_rows(CohortFilters(site_ids=(site.id,))) == [
        SurvivalRow(is_pcr=True, mg="positive", days=days, event=True, n=1)]
