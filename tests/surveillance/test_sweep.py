"""The daily sweep: transitions, alerts, completion, and a query count independent of size."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import Alert
from patients.models import Patient
from surveillance.models import ScheduledItem
from surveillance.services.sweep import surveillance_sweep
from tests.patients.factories import PatientFactory, SurgeryFactory

from .helpers import case_report_patient

pytestmark = pytest.mark.django_db


def cohort(site, n: int, surgery=date(2021, 3, 1)):
    """Patients loaded without signals (as a bulk import would): the sweep must plan them."""
    patients = []
    for _ in range(n):
        p = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
        SurgeryFactory(patient=p, date=surgery, laterality="right")
        patients.append(p)
    return patients


def test_first_sweep_plans_imported_patients_without_alerting_on_their_history(site):
    patients = cohort(site, 3)
    with time_machine.travel(date(2024, 3, 1), tick=False):
        counts = surveillance_sweep()
    assert counts["plans_regenerated"] == 3
    assert ScheduledItem.objects.filter(patient__in=patients).count() > 60
    # History is stamped silently: no overdue alert for exams missed years ago…
    assert counts["newly_overdue"] == 0 and not Alert.objects.exists()
    assert ScheduledItem.objects.filter(became_overdue_on__isnull=False).exists()
    # …but the lost-to-follow-up state is real: nothing recorded for years.
    assert set(Patient.objects.values_list("follow_up_status", flat=True)) == {"lost_to_follow_up"}


def test_transitions_raise_one_alert_per_item_and_run_once_per_day(site, on_commit):
    with time_machine.travel(date(2022, 1, 5), tick=False), on_commit():
        patient = case_report_patient(site, surgery=date(2022, 1, 3), residual=False,
                                      date_of_birth=date(1950, 1, 1))
    first = ScheduledItem.objects.filter(patient=patient).order_by("due_date").first()  # exam 3 May 2022
    with time_machine.travel(first.due_from, tick=False):
        assert surveillance_sweep()["newly_due"] == 1
        assert surveillance_sweep()["newly_due"] == 0  # beat fired twice
    overdue_day = first.overdue_after + timedelta(days=1)
    with time_machine.travel(overdue_day, tick=False):
        assert surveillance_sweep()["newly_overdue"] == 1
        surveillance_sweep()
    alert = Alert.objects.get(patient=patient)
    assert alert.rule == "surveillance_overdue" and alert.severity == "medium"
    assert alert.dedup_key.endswith(f"item:{first.id}")
    first.refresh_from_db()
    assert first.became_due_on == first.due_from and first.became_overdue_on == overdue_day
    assert first.state(overdue_day) == "overdue"


def test_completed_after_year_ten_when_nothing_is_left_open(site):
    patients = cohort(site, 2, surgery=date(2014, 3, 1))
    with time_machine.travel(date(2024, 3, 2), tick=False):
        surveillance_sweep()
    ScheduledItem.objects.filter(patient=patients[0]).update(status="done", done_on=date(2024, 3, 1),
                                                             done_source="elsewhere")
    Patient.objects.filter(id__in=[p.id for p in patients]).update(follow_up_status="active")
    with time_machine.travel(date(2024, 3, 3), tick=False):
        surveillance_sweep()
    assert Patient.objects.get(id=patients[0].id).follow_up_status == "completed"
    # The other one still has the last exam's window open (it is overdue-pending): not completed.
    assert Patient.objects.get(id=patients[1].id).follow_up_status != "completed"


def _sweep_queries(site, n: int) -> int:
    cohort(site, n, surgery=date(2024, 1, 10))
    with time_machine.travel(date(2024, 4, 9), tick=False):
        surveillance_sweep()  # first run: plans everyone
    with time_machine.travel(date(2024, 4, 10), tick=False), CaptureQueriesContext(connection) as ctx:
        counts = surveillance_sweep()
    assert counts["newly_due"] == n  # the 4-month exam of every patient became due today
    return len(ctx.captured_queries)


def test_sweep_query_count_does_not_grow_with_the_cohort(site, other_site):
    assert _sweep_queries(site, 5) == _sweep_queries(other_site, 50)


def test_first_sweep_query_count_does_not_grow_with_the_cohort(site, other_site):
    def first_run(s, n):
        cohort(s, n, surgery=date(2024, 1, 10))
        with time_machine.travel(date(2024, 4, 20), tick=False), CaptureQueriesContext(connection) as ctx:
            surveillance_sweep()
        # Inserts come in batches (SQLite caps parameters per statement); all else is fixed.
        return len([q for q in ctx.captured_queries if not q["sql"].startswith("INSERT")])
    small = first_run(site, 5)
    ScheduledItem.objects.all().delete()
    from surveillance.models import PatientPlan
    PatientPlan.objects.all().delete()
    assert first_run(other_site, 50) == small


def test_management_command_runs_the_daily_task(site, coordinator, capsys):
    from django.core.management import CommandError, call_command

    cohort(site, 2, surgery=date(2024, 1, 10))
    call_command("surveillance_daily", "--date", "2024-04-10")
    out = capsys.readouterr().out
    assert "'plans_regenerated': 2" in out and "Digests:" in out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("surveillance_daily", "--date", "10/04/2024")
