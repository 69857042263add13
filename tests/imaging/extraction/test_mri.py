"""MRI lesions: type, kinetics, mass descriptors, NME distribution, BPE, changes."""

from datetime import date
from decimal import Decimal

import pytest

from demo.seeding.plans import EnhPlan, StudyPlan, describe_study
from imaging.extraction import extract

from .helpers import lesion, lesions


@pytest.mark.parametrize("text, lesion_type", [
    ("A 12 mm irregular enhancing mass in the left breast.", "mass"),
    ("A 4 mm focus of enhancement in the left breast.", "focus"),
    ("Non-mass enhancement in a segmental distribution in the left breast.", "nme"),
    ("Nonmass enhancement in the left breast.", "nme"),
    ("Non-mass-like enhancement in the left breast.", "nme"),
    ("Residual NME in the left breast.", "nme"),
    ("Clumped enhancement in the left breast.", "nme"),
    ("Segmental enhancement in the left breast.", "nme"),
    ("An area of enhancement in the left breast.", "nme"),
    ("An enhancing lesion in the left breast measuring 7 mm.", None),
])
def test_lesion_type(text, lesion_type):
    assert lesion(text).lesion_type == lesion_type


@pytest.mark.parametrize("phrase, initial, delayed", [
    ("with rapid initial enhancement and washout", "fast", "washout"),
    ("with fast/washout kinetics", "fast", "washout"),
    ("slow/persistent", "slow", "persistent"),
    ("with a type 1 curve", None, "persistent"),
    ("with a type II curve", None, "plateau"),
    ("with type 3 kinetics", None, "washout"),
    ("showing rapid washout", None, "washout"),
    ("with wash-out", None, "washout"),
    ("with slow initial and persistent delayed enhancement", "slow", "persistent"),
    ("initial phase rapid, delayed phase washout", "fast", "washout"),
    ("with progressive enhancement kinetics", None, "persistent"),
    ("medium initial rise with plateau delayed phase", "medium", "plateau"),
    ("kinetics: initial intermediate, delayed plateau", "medium", "plateau"),
    ("with rapid wash-in and plateau curve", "fast", "plateau"),
    ("with persitent kinetics", None, "persistent"),
    ("", None, None),
])
def test_kinetics(phrase, initial, delayed):
    found = lesion(f"A 12 mm irregular mass in the left breast {phrase}.")
    assert (found.kinetics_initial, found.kinetics_delayed) == (initial, delayed)


def test_persistent_after_chemotherapy_means_still_there_not_a_curve():
    assert lesion("Persistent non-mass enhancement at the left tumour bed.").kinetics_delayed is None


def test_type_2_diabetes_is_not_a_curve():
    assert lesion("A 12 mm mass in the left breast. Patient has type 2 diabetes.").kinetics_delayed is None


@pytest.mark.parametrize("text, shape, margin", [
    ("An irregular mass with spiculated margins in the left breast.", "irregular", "spiculated"),
    ("A mass with irregular margins in the left breast.", None, "irregular"),
    ("A lobulated circumscribed mass in the left breast.", "oval", "circumscribed"),
    ("An oval, well-circumscribed enhancing mass in the left breast.", "oval", "circumscribed"),
    ("A round mass with ill-defined margins in the left breast.", "round", "irregular"),
    ("Irregular non-mass enhancement in the left breast.", None, None),
])
def test_mass_shape_and_margin_describe_masses_only(text, shape, margin):
    found = lesion(text)
    assert (found.mass_shape, found.mass_margin) == (shape, margin)


@pytest.mark.parametrize("phrase, distribution", [
    ("in a segmental distribution", "segmental"), ("linear", "linear"),
    ("in multiple regions", "multiple_regions"),
    ("ductal", "linear"), ("focal", "focal"), ("diffuse", "diffuse"), ("regional", "regional"),
])
def test_nme_distribution(phrase, distribution):
    assert lesion(f"Non-mass enhancement {phrase} in the left breast.").nme_distribution == distribution


@pytest.mark.parametrize("text, bpe", [
    ("Background parenchymal enhancement is mild.", "mild"),
    ("Minimal BPE.", "minimal"),
    ("BPE: marked, which limits sensitivity.", "marked"),
    ("Moderate background enhancement.", "moderate"),
    ("No suspicious enhancement.", None),
])
def test_background_parenchymal_enhancement(text, bpe):
    assert extract(text, "MR").bpe == bpe


@pytest.mark.parametrize("text, change", [
    ("A 12 mm mass in the left breast, decreased.", "decrease_size"),
    ("A 12 mm mass in the left breast, increasing.", "increase_size"),
    ("A 12 mm mass in the left breast. This is decreased from 32 mm on the baseline study.", "decrease_size"),
    ("A new 7 mm irregular mass in the left breast.", "new"),
    ("The previously seen mass in the left breast has resolved.", "no_longer_seen"),
    ("The mass in the left breast has largely resolved.", "decrease_size"),
])
def test_lesion_changes_use_lesion_codes(text, change):
    assert lesion(text).observed_change == change


@pytest.mark.parametrize("text", [
    "Multiple scattered tiny foci of enhancement, likely related to background enhancement.",
    "The known malignancy (previously 2.7 cm irregular mass at 10:00) shows no residual enhancement.",
    "Post-surgical seroma with thin rim enhancement.",
    "No enhancing mass.",
])
def test_no_lesion(text):
    assert lesions(text) == ()


def test_a_lesion_stated_twice_is_one_lesion():
    found = lesions("RIGHT: New 7 mm irregular enhancing mass at 8 o'clock with washout kinetics.\n"
                    "IMPRESSION: New 7 mm irregular enhancing mass in the right breast at 8:00. BI-RADS 4C.")
    assert [(f.laterality, f.size_mm, f.clock, f.kinetics_delayed, f.observed_change) for f in found] == [
        ("right", Decimal("7"), 8, "washout", "new")]


def test_the_trackers_own_mri_lines_read_back():
    plan = StudyPlan(date(2024, 3, 1), "MR", "post_nac", birads="6", enhs=[
        EnhPlan("R-NME1", "right", "nme", 14, kinetics_delayed="washout", observed_change="decrease_size"),
        EnhPlan("L-M1", "left", "mass", 6.5, kinetics_delayed="persistent", observed_change="stable")])
    found = extract(describe_study(plan), "MR").enhancements
    assert [(f.laterality, f.lesion, f.lesion_type, f.size_mm, f.kinetics_delayed, f.observed_change)
            for f in found] == [("right", "R-NME1", "nme", Decimal("14"), "washout", "decrease_size"),
                                ("left", "L-M1", "mass", Decimal("6.5"), "persistent", "stable")]


def test_the_trackers_no_enhancement_line_reads_back():
    plan = StudyPlan(date(2024, 3, 1), "MR", "post_nac", birads="6", no_enhancement=True)
    assert extract(describe_study(plan), "MR").no_enhancement is True
