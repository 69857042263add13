import pytest

from patients import vocabulary as v


@pytest.mark.parametrize(
    "er, pr, ihc, ish, expected",
    [
        (50, 0, "3+", "", "HR+/HER2+"),  # the case-report patient
        (0, 0, "3+", "", "HR-/HER2+"),
        (0, 0, "2+", "amplified", "HR-/HER2+"),
        (0, 0, "2+", "not_amplified", "triple_negative"),
        (0, 0, "1+", "", "triple_negative"),
        (0, 5, "0", "", "HR+/HER2-"),
        (1, None, "1+", "", "HR+/HER2-"),  # ER >= 1% decides without PR
        (0, None, "1+", "", "unknown"),  # HR status undecidable
        (90, 80, "2+", "", "unknown"),  # equivocal HER2 without ISH
        (90, 80, "", "", "unknown"),
        (0.5, 0, "0", "", "triple_negative"),  # ER < 1% is negative
    ],
)
def test_derive_subtype(er, pr, ihc, ish, expected):
    assert v.derive_subtype(er, pr, ihc, ish) == expected


@pytest.mark.parametrize(
    "ypt, ypn, definition, expected",
    [
        ("ypT0", "ypN0", "ypT0_ypN0", True),
        ("ypTis", "ypN0", "ypT0_ypN0", False),
        ("ypTis", "ypN0", "ypT0is_ypN0", True),
        ("ypTis", "ypN1", "ypT0is_ypN0", False),
        ("ypTis", "ypN1", "ypT0is_breast", True),
        ("ypT0", "ypN0(i+)", "ypT0is_ypN0", False),
        ("ypT1", "ypN0", "ypT0is_breast", False),
        ("", "", "ypT0is_ypN0", None),
    ],
)
def test_is_pcr(ypt, ypn, definition, expected):
    assert v.is_pcr(ypt, ypn, definition) is expected
