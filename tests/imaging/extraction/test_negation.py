"""Negation: NegEx-style scopes, pseudo-negations, and the explicit "no enhancement"."""

import pytest

from imaging.extraction import extract
from imaging.extraction import terms as t
from imaging.extraction.lexicon import lexicon
from imaging.extraction.negation import find_scopes

from .helpers import calcs, lesions


@pytest.mark.parametrize("text", [
    "No suspicious calcifications.",
    "There are no calcifications in the left breast.",
    "No mass, calcification or architectural distortion in the right breast.",
    "No suspicious masses, calcifications, or areas of architectural distortion are seen.",
    "Negative for malignant-appearing calcifications.",
    "No evidence of suspicious microcalcifications in either breast.",
    "Calcifications: none.",
    "Suspicious calcifications are not seen.",
    "Amorphous calcifications are not identified in the left breast.",
    "No new calcifications.",
    "No suspicous fine pleomorphic calcifcations in the right breast.",
])
def test_negated_calcifications_give_no_group(text):
    assert calcs(text) == ()


@pytest.mark.parametrize("text, morphology", [
    ("No new calcifications. Stable amorphous calcifications in the left breast.", "amorphous"),
    ("No mass, but fine pleomorphic calcifications are present in the left breast.", "fine_pleomorphic"),
    ("No suspicious mass; grouped amorphous calcifications in the right breast.", "amorphous"),
    ("Amorphous calcifications in the left breast without associated mass.", "amorphous"),
    ("No new calcifications; the known coarse heterogeneous calcifications in the right breast are stable.",
     "coarse_heterogeneous"),
    ("There is no mass. However, there are punctate calcifications in the left breast.", "round"),
])
def test_a_scope_ends_where_the_clause_does(text, morphology):
    assert [c.morphology for c in calcs(text)] == [morphology]


@pytest.mark.parametrize("text, change", [
    ("Amorphous calcifications in the left breast are no longer seen.", "no_longer_seen"),
    ("The previously seen amorphous calcifications in the left breast are not seen.", "no_longer_seen"),
    ("No change in the amorphous calcifications of the left breast.", "stable"),
    ("Amorphous calcifications in the left breast, without interval change.", "stable"),
    ("Fine pleomorphic calcifications in the left breast, not significantly changed.",
     "not_significantly_changed"),
    ("Fine pleomorphic calcifications in the left breast, no significant change.",
     "not_significantly_changed"),
    ("Amorphous calcifications in the left breast, no increase in extent.", None),
])
def test_pseudo_negations_are_changes_not_negations(text, change):
    [group] = calcs(text)
    assert group.observed_change == change


def test_no_longer_seen_group_has_no_extent():
    [group] = calcs("The previously described 12 mm group of amorphous calcifications in the right breast "
                    "is no longer seen.")
    assert (group.observed_change, group.extent_mm) == ("no_longer_seen", None)


def test_a_pre_trigger_reaches_across_commas_up_to_a_terminator():
    text = "No mass, calcification or distortion but amorphous calcifications"
    tokens = lexicon("MG").tokens(text, 0)
    [scope] = find_scopes(tokens, lexicon("MG").match(tokens, text), text)
    scoped = [tok.text for tok in tokens[scope.first:scope.last]]
    assert scoped == ["mass", "calcification", "or", "distortion"]


def test_a_post_trigger_reaches_back_to_the_clause_start():
    text = "Stable scar; amorphous calcifications are not seen"
    tokens = lexicon("MG").tokens(text, 0)
    scopes = find_scopes(tokens, lexicon("MG").match(tokens, text), text)
    [scope] = [s for s in scopes if s.trigger.kind == t.NEG_POST]
    assert [tok.text for tok in tokens[scope.first:scope.last]] == ["amorphous", "calcifications", "are"]


@pytest.mark.parametrize("text, expected", [
    ("No suspicious enhancement.", True),
    ("No abnormal enhancement in either breast.", True),
    ("There is no residual enhancement at the tumour bed.", True),
    ("Negative for suspicious enhancement.", True),
    ("No suspicious mass or non-mass enhancement.", True),
    ("No residual or new abnormal enhancement.", True),
    ("The left breast shows no abnormal enhancemnet.", True),
    ("No new suspicious enhancement since the prior study.", False),
    ("No other enhancement.", False),
    ("Minimal background parenchymal enhancement.", False),
    ("No background parenchymal enhancement.", False),
    ("The right breast is unremarkable.", False),
    ("A 6 mm enhancing focus at 2 o'clock. No other enhancement.", False),
    ("No suspicious enhancement in the right breast. A 12 mm irregular mass in the left breast.", False),
    ("The previously seen mass in the left breast is no longer seen. No residual enhancement.", True),
])
def test_no_enhancement_only_when_said_and_nothing_remains(text, expected):
    assert extract(text, "MR").no_enhancement is expected


def test_no_enhancement_is_never_proposed_on_a_mammogram():
    assert extract("Comparison MRI: no residual enhancement.", "MG").no_enhancement is False


def test_negated_lesions_are_not_proposed():
    assert lesions("No enhancing mass. No suspicious non-mass enhancement. No other foci.") == ()
