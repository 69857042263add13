import pytest

from alerts.models import Alert
from alerts.services import alert_raise
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_alert_fires_once_per_patient_rule_breast_and_trigger():
    patient = PatientFactory()
    kwargs = dict(patient_id=patient.id, rule="calc_new_group", severity="high",
                  breast="left", trigger="study:7", reason="new group L2 outside the tumour bed")
    first, created = alert_raise(**kwargs)
    again, created_again = alert_raise(**kwargs)
    assert created and not created_again and first == again
    alert_raise(**kwargs | {"breast": "right"})
    alert_raise(**kwargs | {"trigger": "study:8"})
    assert Alert.objects.count() == 3
