"""The daily sweep's story on a seeded cohort, held to a golden snapshot.

A first sweep that plans everyone, daily sweeps, studies and visits saved without their
hooks, treatment dates changed with `queryset.update()`, a protocol change, a death: every
sweep's and digest's counts, and every item, plan, patient status and alert at the end,
must equal `golden/sweep_story.json`. Rows are named by what they are (MRN, kind, breast,
dates), not by ids, so the snapshot holds on SQLite and PostgreSQL alike.

The snapshot was written by the sweep as it was before the set-based rewrite of issue 9
(kept until issue 20 as a second implementation to compare with), and the sweep matches
it since. After an intended change of the surveillance rules, write it again with
`SWEEP_GOLDEN_WRITE=1` and review the diff like code.
"""

import json
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
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

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).resolve().parent / "golden" / "sweep_story.json"
WRITE = os.environ.get("SWEEP_GOLDEN_WRITE") == "1"
TODAY = date(2026, 3, 2)

ITEM_FIELDS = ("kind", "laterality", "due_date", "interval_months", "original_due_date", "due_from",
               "overdue_after", "lost_after_date", "window_start", "window_end", "status", "done_on",
               "done_source", "cancel_reason", "became_due_on", "became_overdue_on", "lost_on",
               "lost_to_follow_up")
PLAN_FIELDS = ("protocol__name", "protocol_version", "surgery_date", "rt_end_date", "high_risk",
               "high_risk_reasons", "ends_on")


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def snapshot() -> dict:
    """Everything the sweeps write, named naturally."""
    mrn = dict(Patient.objects.values_list("id", "mrn"))
    studies = {sid: [mrn[pid], day, modality, laterality] for sid, pid, day, modality, laterality
               in ImagingStudy.objects.values_list("id", "patient_id", "study_date", "modality",
                                                   "laterality")}
    visits = {vid: [mrn[pid], day, kind] for vid, pid, day, kind
              in ClinicVisit.objects.values_list("id", "patient_id", "date", "kind")}
    items = {}
    for row in ScheduledItem.objects.values("id", "patient_id", "study_id", "visit_id", *ITEM_FIELDS):
        items[row["id"]] = [mrn[row["patient_id"]], *(row[f] for f in ITEM_FIELDS),
                            studies.get(row["study_id"]), visits.get(row["visit_id"])]
    alerts = []
    for patient_id, rule, severity, breast, key, reason in Alert.objects.values_list(
            "patient_id", "rule", "severity", "breast", "dedup_key", "reason"):
        item_id = int(key.rsplit("item:", 1)[1])  # the sweep's alerts name their item
        alerts.append([mrn[patient_id], rule, severity, breast, items[item_id], reason])
    data = {
        "items": items.values(),
        "plans": [[mrn[pid], *rest]
                  for pid, *rest in PatientPlan.objects.values_list("patient_id", *PLAN_FIELDS)],
        "patients": [[m, status] for m, status in Patient.objects.values_list("mrn", "follow_up_status")],
        "alerts": alerts,
    }
    return {key: sorted(_plain(list(rows)), key=repr) for key, rows in data.items()}


def story(sweep: Callable[..., dict]) -> list:
    """The cohort's last weeks: every sweep's counts and digest counts."""
    cohort = Patient.objects.filter(site__code__startswith=SITE_PREFIX).order_by("id")
    ids = list(cohort.values_list("id", flat=True))
    log = []

    def day(d, **kw):
        with time_machine.travel(d, tick=False):
            log.append((d, sweep(as_of=d, **kw), digests_send(as_of=d)))

    first = TODAY - timedelta(days=12)
    day(first)
    # Saved without their hooks (a bulk load, a failed after-commit): the catch-up matches them.
    with time_machine.travel(first, tick=False):
        for patient in cohort.filter(id__in=ids[::7]):
            ImagingStudyFactory(patient=patient, study_date=first, modality="MG", laterality="bilateral",
                                final=True)
            ClinicVisitFactory(patient=patient, date=first, kind="clinical_exam")
    for n in range(1, 5):
        day(first + timedelta(days=n))
    # Treatment dates changed behind the signals' back; one patient died.
    with time_machine.travel(first + timedelta(days=4, hours=12), tick=False):
        Radiotherapy.objects.filter(patient_id__in=ids[1::9]).update(
            end_date=F("end_date") + timedelta(days=40))
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
    return [_plain([d, {k: v for k, v in counts.items() if not k.startswith("biopsies_")}, digests])
            for d, counts, digests in log]


def run(sweep: Callable[..., dict], coordinator) -> dict:
    with time_machine.travel(TODAY - timedelta(days=13), tick=False):
        seed_cohort(n=120, seed=5, today=TODAY)
        backdate_cohort()
    coordinator.sites.add(*Site.objects.filter(code__startswith=SITE_PREFIX))
    log = story(sweep)
    return {"log": log, **snapshot()}


def dump(result: dict) -> str:
    """One row per line, so a change reads as a diff of the rows it touches."""
    parts = [f"{json.dumps(key)}: [\n" + ",\n".join(json.dumps(row) for row in rows) + "\n]"
             for key, rows in sorted(result.items())]
    return "{\n" + ",\n".join(parts) + "\n}\n"


def test_the_sweep_story_matches_its_golden_snapshot(site, coordinator):
    result = run(surveillance_sweep, coordinator)
    assert len(result["items"]) > 2000 and any(i[11] == "done" for i in result["items"])
    assert result["alerts"], "the story should raise overdue / lost alerts"
    if WRITE:
        GOLDEN.write_text(dump(result))
    golden = json.loads(GOLDEN.read_text())
    for key in ("log", "plans", "patients", "alerts", "items"):
        assert result[key] == golden[key], key
