"""The set-based sweep (issue 9) computes what the sweep before it computed.

`reference/` holds the plan, matching and sweep services as they were before the rewrite.
Both run the same story on the same seeded cohort — a first sweep that plans everyone,
daily sweeps, studies and visits saved without their hooks, treatment dates changed
with `queryset.update()`, a protocol change, a death — one inside a rolled-back savepoint,
the other for real, and every item, plan, patient status, alert and count must agree.
Items are compared by what they are (patient, kind, breast, date), since their ids differ.
"""

import os
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.models import Alert
from bench.prepare import backdate_cohort
from demo.seeding.cohort import SITE_PREFIX, seed_cohort
from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient, Radiotherapy, Site
from surveillance.models import PatientPlan, Protocol, ScheduledItem
from surveillance.services.digests import digests_send
from surveillance.services.sweep import surveillance_sweep
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import ClinicVisitFactory

from .reference import old_sweep

# The reference is the former sweep, whose lost-to-follow-up UPDATE (three correlated
# NOT EXISTS) PostgreSQL plans pathologically on a fresh test database — the reason it
# was rewritten; it ran for minutes in CI. The equivalence is of the Python and ORM logic,
# so it is checked on SQLite; the new sweep's own tests run on both databases.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="reference sweep too slow on PostgreSQL; equivalence checked on SQLite"),
]

ITEM_FIELDS = ("kind", "laterality", "due_date", "interval_months", "original_due_date", "due_from",
               "overdue_after", "lost_after_date", "window_start", "window_end", "status", "done_on",
               "done_source", "study_id", "visit_id", "cancel_reason", "became_due_on", "became_overdue_on",
               "lost_on", "lost_to_follow_up")
PLAN_FIELDS = ("patient_id", "protocol_id", "protocol_version", "surgery_date", "rt_end_date", "high_risk",
               "high_risk_reasons", "ends_on")


class Rollback(Exception):
    pass


def snapshot(seeded: tuple[int, int]) -> dict:
    """Everything the sweeps write. Studies and visits made during the story get other ids
    in each run (PostgreSQL sequences do not roll back): they are named by patient and date."""
    last_study, last_visit = seeded

    def named(item: dict) -> tuple:
        study, visit = item["study_id"], item["visit_id"]
        if study and study > last_study:
            item["study_id"] = ("new study", item["patient_id"], item["done_on"])
        if visit and visit > last_visit:
            item["visit_id"] = ("new visit", item["patient_id"], item["done_on"])
        return (item["patient_id"], *(item[f] for f in ITEM_FIELDS))

    items = {i["id"]: named(i) for i in ScheduledItem.objects.values("id", "patient_id", *ITEM_FIELDS)}
    alerts = []
    for patient_id, rule, severity, breast, key, reason in Alert.objects.values_list(
            "patient_id", "rule", "severity", "breast", "dedup_key", "reason"):
        item_id = int(key.rsplit("item:", 1)[1])  # the sweep's alerts name their item
        alerts.append((patient_id, rule, severity, breast, items[item_id], reason))
    return {
        "items": sorted(items.values(), key=repr),
        "plans": sorted(PatientPlan.objects.values_list(*PLAN_FIELDS)),
        "patients": sorted(Patient.objects.values_list("id", "follow_up_status")),
        "alerts": sorted(alerts, key=repr),
    }


def story(sweep: Callable[..., dict], today) -> list:
    """The cohort's last weeks: returns every sweep's counts and digest counts."""
    cohort = Patient.objects.filter(site__code__startswith=SITE_PREFIX).order_by("id")
    ids = list(cohort.values_list("id", flat=True))
    log = []

    def day(d, **kw):
        with time_machine.travel(d, tick=False):
            log.append((d, sweep(as_of=d, **kw), digests_send(as_of=d)))

    first = today - timedelta(days=12)
    day(first)
    # Saved without their hooks (a bulk load, a failed after-commit): the catch-up matches them.
    for patient in cohort.filter(id__in=ids[::7]):
        ImagingStudyFactory(patient=patient, study_date=first, modality="MG", laterality="bilateral",
                            final=True)
        ClinicVisitFactory(patient=patient, date=first, kind="clinical_exam")
    for n in range(1, 5):
        day(first + timedelta(days=n))
    # Treatment dates changed behind the signals' back; one patient died.
    Radiotherapy.objects.filter(patient_id__in=ids[1::9]).update(end_date=F("end_date") + timedelta(days=40))
    Patient.objects.filter(id=ids[2]).update(follow_up_status="deceased")
    ImagingStudy.objects.filter(patient_id__in=ids[3::11], status="final").update(
        updated_at=timezone.now(), study_date=first - timedelta(days=3))
    day(first + timedelta(days=5))
    # A protocol change regenerates every plan's future items.
    protocol = Protocol.objects.get(is_default=True)
    protocol.grace_days, protocol.due_lead_days = 45, 21
    protocol.save()
    for n in range(6, 13):
        day(first + timedelta(days=n))
    return log


def test_old_and_new_sweeps_agree_on_a_seeded_cohort(site, coordinator):
    today = timezone.localdate()
    seed_cohort(n=120, seed=5, today=today)
    backdate_cohort()
    patients = Patient.objects.count()
    seeded = (ImagingStudy.objects.order_by("-id").values_list("id", flat=True)[0],
              ClinicVisit.objects.order_by("-id").values_list("id", flat=True)[0])
    coordinator.sites.add(*Site.objects.filter(code__startswith=SITE_PREFIX))
    try:
        with transaction.atomic():
            old_log = story(old_sweep.surveillance_sweep, today)
            old = snapshot(seeded)
            raise Rollback
    except Rollback:
        pass
    assert not ScheduledItem.objects.exists()
    new_log = story(surveillance_sweep, today)
    # The reference sweep predates the biopsy follow-through step; no alert of the story is
    # resolved as biopsy ordered, so its counts are zero and left out of the comparison.
    assert all(c["biopsies_opened"] == c["biopsies_overdue"] == 0 for _, c, _ in new_log)
    new_log = [(d, {k: v for k, v in c.items() if not k.startswith("biopsies_")}, g) for d, c, g in new_log]
    new = snapshot(seeded)
    assert Patient.objects.count() == patients
    # The digests read the `Transition` rows the new sweep writes (issue 16), which the
    # reference never wrote: only the sweeps' own counts are compared.
    assert [(d, c) for d, c, _ in new_log] == [(d, c) for d, c, _ in old_log]
    assert len(new["items"]) > 2000 and any(i[11] == "done" for i in new["items"])
    assert new["alerts"], "the story should raise overdue / lost alerts"
    for key in ("plans", "patients", "alerts", "items"):
        assert new[key] == old[key], key
