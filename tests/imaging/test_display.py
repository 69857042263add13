import pytest

from imaging.display import LABELS, amendment_lines, label
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy


def test_amendment_lines_name_each_changed_field_and_finding():
    changes = {
        "birads": {"before": "2", "after": "4A"},
        "calcifications": {
            "before": [{"group": "L1", "laterality": "left", "extent_mm": 12.0, "observed_change": "stable"}],
            "after": [{"group": "L1", "laterality": "left", "extent_mm": 12.0,
                       "observed_change": "increase_number"},
                      {"group": "L2", "laterality": "left", "extent_mm": 3.0, "observed_change": "new"}],
        },
        "enhancements": {"before": [{"lesion": "E1", "laterality": "right"}], "after": []},
    }
    assert amendment_lines(changes) == [
        "BI-RADS: 2 – Benign → 4A – Low suspicion",
        "Group L1 left: change Stable → Increase in number",
        "Group L2 left added",
        "Lesion E1 right removed",
    ]


MODEL_OF_FIELD = {"morphology": CalcificationFinding, "distribution": CalcificationFinding,
                  "observed_change": CalcificationFinding, "lesion_type": EnhancementFinding,
                  "kinetics_delayed": EnhancementFinding, "kinetics_initial": EnhancementFinding}


@pytest.mark.parametrize("field", sorted(LABELS))
def test_labels_are_what_get_display_gives(field):
    model = MODEL_OF_FIELD.get(field, ImagingStudy)
    choices = model._meta.get_field(field).flatchoices
    assert [k for k, _ in choices] == list(LABELS[field])  # the field's own choices, all of them
    for value in [*LABELS[field], "not-a-choice"]:
        assert label(field, value) == getattr(model(**{field: value}), f"get_{field}_display")()
