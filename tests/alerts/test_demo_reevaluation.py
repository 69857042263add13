"""On the demo data, incremental evaluation (each signature's outbox event, in the order
they were written) and the full re-evaluation (`reevaluate_alerts`) give the same alerts;
the case-report patient raises none (docs/clinical-rules.md, docs/demo-data.md)."""

from io import StringIO

import pytest
from django.core.management import call_command

from alerts.models import SURVEILLANCE_RULES, Alert, AlertState
from demo.seeding.demo import seed_demo
from demo.seeding.demo_roster import CASE_REPORT_MRN
from outbox.models import Event
from outbox.services import event_process
from tests.demo.test_seed_demo import PROGRESSORS

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    return list(Alert.objects.exclude(rule__in=SURVEILLANCE_RULES).order_by("id").values_list(
        "id", "patient__mrn", "rule", "breast", "study_id", "severity", "state", "reason"))


def test_reevaluate_alerts_on_the_demo_gives_the_incremental_alerts():
    seed_demo()
    for event_id in Event.objects.filter(processed_at=None).order_by("id").values_list("id", flat=True):
        event_process(event_id)
    incremental = snapshot()
    assert not any(row[6] == AlertState.SUPERSEDED for row in incremental)
    call_command("reevaluate_alerts", "--in-process", stdout=StringIO(), verbosity=0)
    assert snapshot() == incremental
    by_patient: dict[str, set[str]] = {}
    for _, mrn, rule, *_ in incremental:
        by_patient.setdefault(mrn, set()).add(rule)
    assert CASE_REPORT_MRN not in by_patient
    assert set(by_patient) == set(PROGRESSORS)
    for mrn, rules in PROGRESSORS.items():
        assert rules <= by_patient[mrn], mrn
