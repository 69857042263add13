"""HL7 values to the tracker's vocabulary (pure), on both sides of every boundary."""

from datetime import date, datetime, timedelta

import pytest

from feeds import mapping
from feeds.parsing import parse_date, parse_datetime

SURGERY = date(2024, 6, 1)
NAC_START, NAC_END = date(2024, 1, 1), date(2024, 5, 1)


@pytest.mark.parametrize(("day", "phase"), [
    (NAC_START - timedelta(days=1), "baseline"),
    (NAC_START, "mid_nac"),
    (NAC_END - timedelta(days=1), "mid_nac"),
    (NAC_END, "post_nac"),
    (SURGERY - timedelta(days=1), "post_nac"),
    (SURGERY, "post_nac"),  # the surgery day is pre-surgical (imaging.phase)
    (SURGERY + timedelta(days=1), "surveillance"),
])
def test_phase_follows_the_treatment_dates(day, phase):
    assert mapping.phase_for(day, surgery_dates=[SURGERY], nac_start=NAC_START, nac_end=NAC_END) == phase


def test_phase_without_treatment_is_surveillance_and_before_surgery_post_nac():
    assert mapping.phase_for(SURGERY, surgery_dates=[], nac_start=None, nac_end=None) == "surveillance"
    assert mapping.phase_for(SURGERY - timedelta(days=1), surgery_dates=[SURGERY], nac_start=None,
                             nac_end=None) == "post_nac"


@pytest.mark.parametrize(("value", "category"), [
    ("4A", "4A"), ("4a", "4A"), ("BI-RADS 4", "4"), ("BIRADS:5", "5"), ("Category4", "4"),
    ("4^Suspicious^BIRADS", "4"), ("0", "0"), ("6", "6"), ("7", None), ("4D", None), ("", None),
    ("benign", None), ("-1", None),
])
def test_birads_values(value, category):
    assert mapping.birads_from(value) == category


@pytest.mark.parametrize(("code", "text", "yes"), [
    ("RDE1586", "", True), ("X1", "BI-RADS assessment", True), ("X2", "Birads", True),
    ("18782-3", "Radiology report", False),
])
def test_birads_observations(code, text, yes):
    assert mapping.is_birads_observation(code, text) is yes


@pytest.mark.parametrize(("section", "text", "modality"), [
    ("MG", "", "MG"), ("MR", "", "MR"), ("US", "", "US"), ("", "MAMMO SCREEN", "MG"),
    ("", "BREAST MRI W CONTRAST", "MR"), ("", "US BREAST", "US"), ("", "TOMOSYNTHESIS", "MG"),
    ("CT", "CHEST CT", None), ("", "", None),
])
def test_modality_from_section_or_words(section, text, modality):
    assert mapping.modality_from(section=section, procedure_text=text) == modality


@pytest.mark.parametrize(("text", "side"), [
    ("MAMMO DIAG LEFT", "left"), ("MAMMO LT", "left"), ("US RIGHT BREAST", "right"),
    ("MRI BILAT", "bilateral"), ("LEFT AND RIGHT", "bilateral"), ("SCREENING MAMMO", None),
    ("ALTERNATE VIEW", None),
])
def test_laterality_from_words(text, side):
    assert mapping.laterality_from_text(text) == side


@pytest.mark.parametrize(("value", "expected"), [
    ("20260301", date(2026, 3, 1)), ("202603011230", date(2026, 3, 1)), ("20260301123000.123+0100",
                                                                            date(2026, 3, 1)),
    ("20260230", None), ("2026-03-01", None), ("", None), ("2026", None),
])
def test_hl7_dates(value, expected):
    assert parse_date(value) == expected


def test_hl7_datetimes_keep_their_offset():
    stamp = parse_datetime("20260301123000+0200")
    assert stamp.utcoffset() == timedelta(hours=2)
    assert parse_datetime("20260301") is not None and parse_datetime("nonsense") is None
    assert isinstance(parse_datetime("202603011230"), datetime)
