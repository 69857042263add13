"""The shipped thresholds are in the database from a migration and are the documented
defaults (docs/clinical-rules.md, "Thresholds"); the model defaults and the rules' own
defaults agree with them."""

import pytest

from alerts.models import AlertSettings
from alerts.rules import Thresholds

DOCUMENTED = {"extent_mm": 5.0, "extent_percent": 20.0, "lesion_growth_mm": 5.0,
              "lesion_growth_percent": 20.0}


@pytest.mark.django_db
def test_the_migration_ships_the_documented_thresholds():
    row = AlertSettings.objects.get(pk=1)  # not `current()`: it would create the row
    assert row.as_dict() == DOCUMENTED
    assert row.thresholds() == Thresholds()


def test_model_and_rule_defaults_are_the_documented_values():
    assert {f: float(AlertSettings._meta.get_field(f).default) for f in AlertSettings.FIELDS} == DOCUMENTED
    assert Thresholds().__dict__ == DOCUMENTED
