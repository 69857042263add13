"""Typo tolerance: lexicon words misspelt are recognised, real words are left alone."""

import pytest

from imaging.extraction.fuzzy import osa_distance
from imaging.extraction.lexicon import corrector

from .helpers import calc


@pytest.mark.parametrize("typo, word", [
    ("pleomorhpic", "pleomorphic"),
    ("peomorphic", "pleomorphic"),
    ("calcifcations", "calcifications"),
    ("calcifiactions", "calcifications"),
    ("microcalcificatons", "microcalcifications"),
    ("enhancmeent", "enhancement"),
    ("semgental", "segmental"),
    ("segemental", "segmental"),
    ("heterogenous", "heterogeneous"),
    ("amorphus", "amorphous"),
    ("speculated", "spiculated"),
    ("persitent", "persistent"),
    ("wahsout", "washout"),
    ("rigth", "right"),
    ("lfet", "left"),
])
def test_a_typo_reads_as_the_lexicon_word(typo, word):
    assert corrector().correct(typo) == word


@pytest.mark.parametrize("word", ["course", "progression", "around", "found", "interior", "present",
                                  "rght", "masses", "stable", "diffusion"])
def test_real_words_and_far_misses_are_left_alone(word):
    assert corrector().correct(word) == word


@pytest.mark.parametrize("a, b, distance", [
    ("pleomorhpic", "pleomorphic", 1), ("calcifcations", "calcifications", 1), ("abc", "abc", 0),
    ("course", "coarse", 1), ("decreased", "increased", 2),
])
def test_optimal_string_alignment_distance(a, b, distance):
    assert osa_distance(a, b, limit=3) == distance


def test_a_misspelt_report_still_gives_its_group():
    found = calc("Left breast: residual pleomorhpic microcalcificatons in a segemental distribution, "
                 "spanning 2.8 cm, stabel.")
    assert (found.laterality, found.morphology, found.distribution, found.extent_mm) == (
        "left", "fine_pleomorphic", "segmental", 28)
