"""Ten years with time_machine: the case-report patient, and a patient who stops coming."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail

from alerts.models import Alert
from patients.models import Patient
from surveillance.models import Digest, ScheduledItem
from surveillance.tasks import daily_sweep_and_digest

from .helpers import SURGERY, case_report_patient, exam, mammogram, mri

pytestmark = pytest.mark.django_db

KINDS = ScheduledItem.Kind


def travel(day: date):
    return time_machine.travel(day, tick=False)


def test_case_report_patient_ten_years_every_exam_matched_nothing_overdue_completed(site, coordinator,
                                                                                      on_commit):
    with travel(SURGERY + timedelta(days=3)), on_commit():
        patient = case_report_patient(site)
    items = list(ScheduledItem.objects.filter(patient=patient).order_by("due_date", "id"))
    assert {i.kind for i in items} == set(KINDS.values)  # 48 at diagnosis: MRI too
    studies = []
    for item in items:
        with travel(item.due_date), on_commit():
            if item.kind == KINDS.CLINICAL_EXAM:
                exam(patient, item.due_date)
            elif item.kind == KINDS.MRI:
                studies.append(mri(patient, item.due_date))
            elif item.kind == KINDS.MAMMOGRAM or not ScheduledItem.objects.filter(
                    patient=patient, kind=KINDS.MAMMOGRAM, due_date=item.due_date).exists():
                side = "bilateral" if item.kind == KINDS.MAMMOGRAM else "left"
                studies.append(mammogram(patient, item.due_date, laterality=side))
        with travel(item.due_date + timedelta(days=1)):
            daily_sweep_and_digest()
    # Ten years and two months on: today.
    with travel(date(2026, 11, 22)):
        daily_sweep_and_digest()
    items = list(ScheduledItem.objects.filter(patient=patient))
    assert all(i.status == "done" for i in items)
    for item in items:
        assert item.done_on == item.due_date
        linked = item.study if item.kind != KINDS.CLINICAL_EXAM else item.visit
        assert linked is not None
    mammo_items = [i for i in items if i.kind in (KINDS.MAMMOGRAM, KINDS.DIAGNOSTIC_MAMMOGRAM)]
    assert len(mammo_items) == 14  # 10 yearly + 4 six-monthly diagnostic
    assert {s.id for s in studies} == {i.study_id for i in items if i.study_id}  # every study matched
    assert not Alert.objects.filter(patient=patient).exists()
    assert not any(i.became_overdue_on for i in items)
    assert Patient.objects.get(id=patient.id).follow_up_status == "completed"


def test_patient_who_stops_coming_goes_due_overdue_lost_once_each_in_the_digest(site, coordinator,
                                                                                 on_commit):
    surgery = date(2023, 11, 1)
    with travel(surgery + timedelta(days=2)), on_commit():
        patient = case_report_patient(site, surgery=surgery, residual=False, date_of_birth=date(1960, 1, 1))
    # Attends the first exam (1 Mar 2024) and the first mammogram, then never again.
    first_exam = ScheduledItem.objects.get(patient=patient, kind=KINDS.CLINICAL_EXAM,
                                           due_date=date(2024, 3, 1))
    with travel(date(2024, 3, 1)), on_commit():
        exam(patient, date(2024, 3, 1))
    first_mammo = ScheduledItem.objects.filter(patient=patient, kind=KINDS.MAMMOGRAM).first()
    assert first_mammo.due_date == date(2024, 7, 4)  # RT end + 6 months
    skipped = ScheduledItem.objects.get(patient=patient, kind=KINDS.CLINICAL_EXAM, due_date=date(2024, 7, 1))
    states = {}
    day = date(2024, 5, 20)
    while day <= date(2025, 9, 30):
        with travel(day):
            if day == first_mammo.due_date:
                with on_commit():
                    mammogram(patient, day)
            daily_sweep_and_digest()
            skipped.refresh_from_db()
            states.setdefault("lost" if skipped.lost_to_follow_up else skipped.state(day), day)
        day += timedelta(days=1)
    first_exam.refresh_from_db()
    first_mammo.refresh_from_db()
    assert first_exam.status == "done" and first_mammo.status == "done"
    assert states == {"upcoming": date(2024, 5, 20), "due": date(2024, 6, 1),
                      "overdue": date(2024, 8, 31), "lost": date(2025, 8, 31)}
    assert Patient.objects.get(id=patient.id).follow_up_status == "lost_to_follow_up"

    digests = list(Digest.objects.filter(user=coordinator).order_by("date"))
    assert len({d.date for d in digests}) == len(digests)  # one per day at most
    uuid = str(skipped.uuid)
    for transition in ("due", "overdue", "lost"):
        days = [d.date for d in digests if any(r["item_uuid"] == uuid for r in d.content.get(transition, []))]
        assert len(days) == 1, transition
    assert [d.date for d in digests if d.newly_lost] == [date(2025, 8, 31)]
    # One email per day with news, never one per patient or item; no patient details in subjects.
    sent = [d for d in digests if d.status == "sent"]
    assert len(mail.outbox) == len(sent)
    assert all(patient.mrn not in m.subject and patient.family_name not in m.subject for m in mail.outbox)
    alerts = Alert.objects.filter(patient=patient)
    assert alerts.filter(rule="surveillance_overdue", dedup_key__endswith=f"item:{skipped.id}").count() == 1
    lost_alerts = alerts.filter(rule="lost_to_follow_up")
    assert lost_alerts.count() == 1 and lost_alerts.get().severity == "high"
    # Beat firing twice on the same day sends nothing more.
    with travel(date(2025, 9, 30)):
        before = len(mail.outbox)
        daily_sweep_and_digest()
        assert len(mail.outbox) == before
