"""The dashboard tells the people who act on an alert that it was superseded, and why."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, AlertState, Severity
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def superseded(patient, rule: str, *, days_ago: float, key: str) -> Alert:
    return Alert.objects.create(
        patient=patient, rule=rule, severity=Severity.HIGH, state=AlertState.SUPERSEDED,
        reason="…", dedup_key=f"{patient.pk}:{rule}:{key}",
        superseded_at=timezone.now() - timedelta(days=days_ago),
        superseded_reason=f"reason {key}")


@pytest.fixture
def alerts(site, other_site):
    mine, theirs = PatientFactory(site=site), PatientFactory(site=other_site)
    return {
        "imaging": superseded(mine, "calc_extent_increase", days_ago=1, key="imaging"),
        "old": superseded(mine, "calc_new_group", days_ago=15, key="old"),
        "surveillance": superseded(mine, "surveillance_overdue", days_ago=2, key="surveillance"),
        "other site": superseded(theirs, "calc_extent_increase", days_ago=1, key="other"),
    }


@pytest.mark.parametrize(("persona", "shown"), [
    ("radiologist", ["imaging"]),  # acts on imaging alerts only
    ("coordinator", ["surveillance"]),  # acts on overdue and lost-to-follow-up alerts
])
def test_each_reader_sees_the_recent_superseded_alerts_they_act_on(client, request, alerts, persona, shown):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("dashboard"))
    assert [a.pk for a in response.context["superseded"]] == [alerts[k].pk for k in shown]
    html = response.content.decode()
    assert "Superseded in the last 14 days" in html and f"reason {shown[0]}" in html
    assert "reason old" not in html and "reason other" not in html


def test_nothing_superseded_shows_no_section(client, radiologist):
    client.force_login(radiologist)
    assert "Superseded in the last" not in client.get(reverse("dashboard")).content.decode()
