"""BI-RADS category and breast composition."""

import pytest

from imaging.extraction import extract


@pytest.mark.parametrize("text, birads", [
    ("BI-RADS 4B", "4B"),
    ("BIRADS: 2", "2"),
    ("BI-RADS Category 3 - probably benign.", "3"),
    ("Category 3.", "3"),
    ("ACR 4", "4"),
    ("Assessment: 5 - highly suggestive of malignancy.", "5"),
    ("BI-RADS\u00ae 2", "2"),
    ("BI-RADS(R) 1", "1"),
    ("Bi-Rads 4a", "4A"),
    ("BI RADS 0: incomplete", "0"),
    ("BI-RADS IV", "4"),
    ("ACR BI-RADS Category 1.", "1"),
    ("Final assessment: BI-RADS 6 (known biopsy-proven malignancy).", "6"),
    ("ASSESSMENT: Probably benign.", "3"),
    ("ASSESSMENT: Known biopsy-proven malignancy.", "6"),
    ("Overall BI-RADS: 4C", "4C"),
    ("BI-RADS right 3, left 2.", "3"),
    ("IMPRESSION:\nBIRADS: 3 - Probably benign.", "3"),
    ("Right: BI-RADS 1. Left: BI-RADS 4A.", "4A"),
    ("Right: BI-RADS 2. Left: BI-RADS 0.", "0"),
    ("Right: BI-RADS 6. Left: BI-RADS 3.", "6"),
    ("New focus, BI-RADS 3 for the right; overall BI-RADS 6.", "6"),
    ("Assessment: BI-RADS 4A (left), 6 (right).", "4A"),
])
def test_birads(text, birads):
    assert extract(text, "MG").birads == birads


@pytest.mark.parametrize("text", [
    "ACR C",
    "Breast density: ACR 2.",
    "History: previously BI-RADS 5.\nFindings: clear.",
    "CLINICAL HISTORY: BI-RADS 4 lesion biopsied in 2019.\nFINDINGS: No suspicious calcifications.",
    "The prior study was BI-RADS 3.",
    "Opinion: M2.",
    "BI-RADS density category c.",
    "BI-RADS 2B",
])
def test_no_birads(text):
    assert extract(text, "MG").birads is None


def test_birads_evidence_is_the_phrase():
    text = "FINDINGS: stable.\nIMPRESSION: Benign. BI-RADS 2: benign."
    span = extract(text, "MG").evidence["birads"]
    assert text[span.start:span.end] == span.text == "BI-RADS 2"


@pytest.mark.parametrize("text, composition", [
    ("The breasts are almost entirely fatty.", "a"),
    ("There are scattered areas of fibroglandular density.", "b"),
    ("The breasts are heterogeneously dense, which may obscure small masses.", "c"),
    ("The breast tissue is extremely dense, which lowers the sensitivity of mammography.", "d"),
    ("ACR density B.", "b"),
    ("Breast composition: c", "c"),
    ("Breast composition B.", "b"),
    ("Density: D", "d"),
    ("Heterogeneously dense breast tissue (ACR C).", "c"),
    ("Dense breast tissue (C).", "c"),
    ("Predominantly fatty with scattered fibroglandular densities (ACR B).", "b"),
    ("The breasts are heterogenously dense.", "c"),
    ("Extremly dense breasts.", "d"),
    ("Breast density ACR 3.", "c"),
    ("Fatty breasts.", "a"),
    ("The breasts are predominantly fatty.", "a"),
    ("No comment on density.", None),
    ("HISTORY: dense breasts (ACR D) on a previous mammogram.\n"
     "FINDINGS: Scattered fibroglandular tissue.", "b"),
])
def test_breast_composition(text, composition):
    assert extract(text, "MG").breast_composition == composition


def test_composition_is_a_mammography_field():
    assert extract("Breast composition: scattered fibroglandular tissue.", "MR").breast_composition is None
