from imaging.display import amendment_lines


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
