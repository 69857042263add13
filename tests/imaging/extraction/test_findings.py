"""Calcification groups: breast per section and sentence, several groups, merging, history."""

from datetime import date
from decimal import Decimal

import pytest

from demo.seeding.plans import CalcPlan, StudyPlan, describe_study
from imaging import vocabulary as v
from imaging.extraction import extract

from .helpers import calc, calcs


@pytest.mark.parametrize("text, breasts", [
    ("LEFT BREAST: Grouped amorphous calcifications.", ["left"]),
    ("RIGHT BREAST:\nGrouped amorphous calcifications at 10 o'clock.\nStable.", ["right"]),
    ("Right: Fine pleomorphic calcifications.", ["right"]),
    ("R breast: amorphous calcs 5 mm.", ["right"]),
    ("L: dystrophic calcifications at the scar.", ["left"]),
    ("Fine pleomorphic calcifications in the right breast.", ["right"]),
    ("Amorphous calcifications RUOQ.", ["right"]),
    ("Bilateral scattered vascular calcifications.", ["left", "right"]),
    ("Vascular calcifications in both breasts.", ["left", "right"]),
    ("LEFT BREAST:\nNo suspicious calcifications.\nRIGHT BREAST:\nAmorphous calcifications at 10 o'clock.",
     ["right"]),
    ("Findings: Dense. Left breast: punctate calcifications. Right breast: negative.", ["left"]),
    ("In the left breast there are two groups of calcifications. "
     "Group 1 consists of amorphous calcifications. Group 2 consists of punctate calcifications.",
     ["left", "left"]),
    ("No suspicious calcifications in the right breast. Amorphous calcifications in the left breast.",
     ["left"]),
])
def test_each_group_gets_its_breast(text, breasts):
    assert [c.laterality for c in calcs(text)] == breasts


def test_a_unilateral_study_places_groups_in_its_breast():
    group = calc("RIGHT DIAGNOSTIC MAMMOGRAM\nGrouped amorphous calcifications at 10 o'clock.")
    assert group.laterality == "right"


@pytest.mark.parametrize("text, laterality", [
    ("BILATERAL DIAGNOSTIC MAMMOGRAM\nFatty breasts.", "bilateral"),
    ("LEFT MAMMOGRAM, 2 VIEWS (right mastectomy 2020)\nFatty breast.", "left"),
    ("EXAM: Right breast MRI\nFindings: no enhancement.", "right"),
    ("Examination: MRI both breasts.", "bilateral"),
    ("Bilat dx mammo w/ tomo.", "bilateral"),
    ("L dx mammo. Stable.", "left"),
    ("Mammography report. Right breast: negative. Left breast: negative.", "bilateral"),
    ("Mammography report.\nRIGHT:\nNegative.\nLEFT:\nNegative.", "bilateral"),
    ("Mammography report. Left breast: negative.", None),
    ("Breast MRI: No suspicious enhancement in either breast.", "bilateral"),
    ("HISTORY: bilateral breast cancer.\nFINDINGS: The left breast is fatty.", None),
])
def test_study_laterality(text, laterality):
    assert extract(text).laterality == laterality


def test_several_groups_in_one_sentence_keep_their_own_values():
    found = calcs("There are two groups of calcifications in the right breast: a 2.7 cm cluster of "
                  "residual calcifications in the retroareolar region, not significantly changed; and fine "
                  "pleomorphic calcifications at 11:00 in a segmental pattern, measuring 84 mm, increased in "
                  "number.")
    assert [(c.morphology, c.distribution, c.extent_mm, c.quadrant, c.clock, c.observed_change)
            for c in found] == [
        (None, "grouped", Decimal("27"), "central", None, "not_significantly_changed"),
        ("fine_pleomorphic", "segmental", Decimal("84"), None, 11, "increase_number"),
    ]


def test_one_group_with_two_morphologies_takes_the_most_suspicious():
    group = calc("Fine pleomorphic and fine linear calcifications in a segmental distribution, left breast.")
    assert group.morphology == "fine_linear_branching"


@pytest.mark.parametrize("text, distribution", [
    ("A cluster of amorphous calcifications in the left breast.", "grouped"),
    ("Clustered amorphous calcifications in the left breast.", "grouped"),
    ("Scattered vascular calcifications in the left breast.", "diffuse"),
    ("A group of amorphous calcifications in a segmental distribution, left breast.", "segmental"),
    ("Linear amorphous calcifications in the left breast.", "linear"),
    ("Fine linear calcifications in the left breast.", None),
    ("Casting-type calcifications in the left breast, regional.", "regional"),
])
def test_distribution(text, distribution):
    assert calc(text).distribution == distribution


@pytest.mark.parametrize("phrase, morphology", [
    ("punctate", "round"), ("pleomorphic", "fine_pleomorphic"),
    ("fine-linear branching", "fine_linear_branching"), ("casting-type", "fine_linear_branching"),
    ("coarse", "coarse_popcorn"), ("popcorn-like", "coarse_popcorn"),
    ("coarse, heterogeneous", "coarse_heterogeneous"), ("eggshell", "rim"), ("lucent-centered", "rim"),
    ("secretory", "large_rod_like"), ("large rod-like", "large_rod_like"), ("dermal", "skin"),
    ("arterial", "vascular"), ("milk-of-calcium", "milk_of_calcium"), ("coarse dystrophic", "dystrophic"),
    ("suture", "suture"), ("amorphous", "amorphous"),
])
def test_morphology_lexicon(phrase, morphology):
    assert calc(f"{phrase} calcifications in the left breast.").morphology == morphology


def test_milk_of_calcium_needs_no_calcification_noun():
    group = calc("Layering milk of calcium in the right lower inner quadrant, regional, stable.")
    assert (group.morphology, group.laterality, group.quadrant, group.distribution) == (
        "milk_of_calcium", "right", "LIQ", "regional")


def test_a_round_mass_is_not_a_calcification():
    group = calc("A round mass in the left breast with associated amorphous calcifications.")
    assert group.morphology == "amorphous"


def test_the_impression_repeating_a_group_fills_it_instead_of_adding_one():
    found = calcs("FINDINGS: Fine pleomorphic calcifications in the left breast spanning 12 mm.\n"
                  "IMPRESSION: Stable fine pleomorphic calcifications in the left breast. BI-RADS 3.")
    assert [(c.extent_mm, c.observed_change) for c in found] == [(Decimal("12"), "stable")]


def test_a_following_sentence_completes_the_group():
    group = calc("Grouped amorphous calcifications in the left breast. They span 12 mm and are unchanged.")
    assert (group.extent_mm, group.observed_change) == (Decimal("12"), "stable")


def test_a_sentence_about_something_else_does_not_complete_the_group():
    group = calc("Grouped amorphous calcifications in the left breast. Skin thickening is decreasing.")
    assert group.observed_change is None


@pytest.mark.parametrize("text", [
    "HISTORY: biopsy-proven fine pleomorphic calcifications in the left breast in 2019.\n"
    "FINDINGS: No suspicious calcifications.",
    "Comparison: amorphous calcifications on the 2022 study.\nFINDINGS: Fatty breasts.",
    "History of fine pleomorphic calcifications. No suspicious findings.",
    "The left breast mass has decreased from 3.1 cm to 1.4 cm. There are no associated calcifications.",
])
def test_history_and_other_findings_give_no_group(text):
    assert calcs(text) == ()


@pytest.mark.parametrize("morphology", [m.value for m in v.Morphology])
@pytest.mark.parametrize("distribution, change", [("grouped", "increase_number"), ("segmental", "stable"),
                                                  ("diffuse", "decrease_calcifications"),
                                                  ("linear", "not_significantly_changed")])
def test_the_trackers_own_report_lines_read_back(morphology, distribution, change):
    """The seeding writes report text from structured findings; reading it gives them back."""
    plan = StudyPlan(date(2024, 3, 1), "MG", "surveillance", birads="3", calcs=[
        CalcPlan("L1", "left", morphology, distribution, 22.5, "6-10", observed_change=change),
        CalcPlan("R2", "right", "amorphous", "regional", 8, "1-5", observed_change="partially_removed")])
    proposal = extract(describe_study(plan), "MG")
    assert (proposal.birads, proposal.laterality) == ("3", "bilateral")
    assert [(c.laterality, c.group, c.morphology, c.distribution, c.extent_mm, c.count_bin, c.observed_change)
            for c in proposal.calcifications] == [
        ("left", "L1", morphology, distribution, Decimal("22.5"), "6-10", change),
        ("right", "R2", "amorphous", "regional", Decimal("8"), "1-5", "partially_removed")]
