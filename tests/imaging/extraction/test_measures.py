"""Numbers: sizes in mm and cm, old sizes, nipple distances, clock, labels, counts, depth."""

from decimal import Decimal

import pytest

from imaging.extraction.measures import mm

from .helpers import calc, calcs

BASE = "Grouped amorphous calcifications in the left breast {}."


@pytest.mark.parametrize("phrase, extent", [
    ("measuring 12 mm", "12"),
    ("measuring 12mm", "12"),
    ("spanning 1.2 cm", "12"),
    ("over 1.2cm", "12"),
    ("extending 1.2-cm", "12"),
    ("measuring 12 x 8 mm", "12"),
    ("measuring 8 x 12 mm", "12"),
    ("over 1.2 x 0.8 cm", "12"),
    ("over 1.2 cm x 0.8 cm", "12"),
    ("over 17 x 12 x 10 mm", "17"),
    ("measuring 0,8 cm", "8"),
    ("measuring 10-12 mm", "12"),
    ("measuring 2.5 millimetres", "2.5"),
    ("extending over 4 centimeters", "40"),
    ("now 12 mm (previously 15 mm)", "12"),
    ("measuring 12 mm (previously 1.5 cm)", "12"),
    ("decreased from 2 cm to 1.2 cm", "12"),
    ("decreased to 12 mm from 20 mm", "12"),
    ("measuring 12 mm, 4 cm from the nipple", "12"),
])
def test_extent_is_the_current_largest_dimension_in_mm(phrase, extent):
    assert calc(BASE.format(phrase)).extent_mm == Decimal(extent)


@pytest.mark.parametrize("phrase", [
    "previously 15 mm", "15 mm previously", "compared with 1.5 cm at baseline", "4 cm from the nipple",
    "2 cm posterior to the clip", "(baseline 3.8 cm)", "unchanged",
])
def test_old_sizes_and_distances_are_not_the_extent(phrase):
    assert calc(BASE.format(phrase)).extent_mm is None


def test_another_objects_size_is_not_the_extent():
    found = calc("A 9 mm oval mass in the left breast with associated amorphous calcifications.")
    assert found.extent_mm is None


@pytest.mark.parametrize("phrase, distance", [("4 cm from the nipple", "40"), ("6 cm FN", "60"),
                                               ("35 mm from nipple", "35")])
def test_nipple_distance(phrase, distance):
    assert calc(BASE.format(phrase)).nipple_distance_mm == Decimal(distance)


@pytest.mark.parametrize("phrase, clock", [
    ("at 2 o'clock", 2), ("at 2 o\u2019clock", 2), ("at 10:00", 10), ("at the 12 o clock position", 12),
    ("at 2-o'clock", 2), ("at 11 oclock", 11), ("at 1:30", None), ("spanning 12 mm", None),
])
def test_clock_position(phrase, clock):
    assert calc(BASE.format(phrase)).clock == clock


@pytest.mark.parametrize("text, label", [
    ("Group L1: grouped amorphous calcifications in the left breast.", "L1"),
    ("Grouped amorphous calcifications in the left breast (group L2).", "L2"),
    ("Grouped amorphous calcifications in the left breast (L3).", "L3"),
    ("Left L1: amorphous calcifications, grouped, 12 mm.", "L1"),
    ("Group 2, in the left breast, consists of amorphous calcifications.", "2"),
    ("A group of amorphous calcifications in the left breast.", None),
])
def test_group_label(text, label):
    assert calc(text).group == label


@pytest.mark.parametrize("text, count, count_bin", [
    ("Approximately 12 fine pleomorphic calcifications in the left breast.", 12, "11-20"),
    ("4 amorphous calcifications in the left breast.", 4, "1-5"),
    ("More than 20 amorphous calcifications in the left breast.", None, ">20"),
    ("A 5 mm cluster of amorphous calcifications in the left breast.", None, None),
    ("Left L1: amorphous calcifications, grouped, 12 mm, 6-10, stable.", None, "6-10"),
])
def test_count_and_count_bin(text, count, count_bin):
    found = calc(text)
    assert (found.count, found.count_bin) == (count, count_bin)


@pytest.mark.parametrize("phrase, depth", [("middle depth", "middle"), ("posterior third", "posterior"),
                                            ("depth: anterior", "anterior"), ("mid depth", "middle")])
def test_depth(phrase, depth):
    assert calc(BASE.format(f"at 2 o'clock, {phrase}")).depth == depth


@pytest.mark.parametrize("number, unit, expected", [
    ("1.2", "cm", "12"), ("10", "cm", "100"), ("1.25", "cm", "12.5"), ("4.5", "mm", "4.5"),
    ("0,8", "cm", "8"),
])
def test_millimetres_are_plain_decimals(number, unit, expected):
    assert str(mm(number, unit)) == expected


def test_sizes_of_two_groups_stay_with_their_groups():
    found = calcs("There are two groups of calcifications in the left breast: a 5 mm cluster of amorphous "
                  "calcifications at 2 o'clock and a 3 mm cluster of punctate calcifications at 10 o'clock.")
    assert [(c.morphology, c.extent_mm, c.clock) for c in found] == [("amorphous", 5, 2), ("round", 3, 10)]
