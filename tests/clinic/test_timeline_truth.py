"""The timeline page never says "stable" for a breast with an unresolved progression alert,
acknowledged or not; a resolved or superseded one no longer holds the word back."""

import pytest

from alerts.models import Alert, AlertState, Severity
from tests.browser.case_report import case_report_patient

pytestmark = pytest.mark.django_db


def _alert(patient, state: str, by) -> Alert:
    resolved = {"resolved_by": by, "resolution": "benign_no_action"} if state == AlertState.RESOLVED else {}
    return Alert.objects.create(
        patient=patient, rule="calc_extent_increase", severity=Severity.MEDIUM, breast="left",
        state=state, reason="Extent 12 → 18 mm", dedup_key=f"{patient.pk}:calc_extent_increase:left:x",
        **resolved)


@pytest.mark.parametrize(("state", "stable"), [
    (None, True),
    (AlertState.OPEN, False),
    (AlertState.ACKNOWLEDGED, False),
    (AlertState.RESOLVED, True),
    (AlertState.SUPERSEDED, True),
])
def test_left_breast_reads_stable_only_without_an_unresolved_progression_alert(
        client, site, radiologist, state, stable):
    patient = case_report_patient(site)
    if state:
        _alert(patient, state, radiologist)
    client.force_login(radiologist)
    html = client.get(patient.get_absolute_url()).content.decode()
    assert "Left breast: nadir" in html
    assert ("stable since" in html) is stable
    assert ("open alert: Calcification extent increase" in html) is not stable
