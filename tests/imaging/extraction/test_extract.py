"""The API: frozen proposals, evidence spans, valid vocabulary values, modality handling."""

import dataclasses
import json
from pathlib import Path

import pytest

from imaging import vocabulary as v
from imaging.extraction import CalcProposal, Proposal, extract
from imaging.extraction.scoring import load_corpus
from patients.vocabulary import Breast, Laterality

CORPUS = Path(__file__).parent / "corpus"
CASES = [c for name in ("generated", "handwritten", "handwritten_holdout")
         for c in load_corpus(CORPUS / f"{name}.jsonl")]

CHOICES = {
    "birads": v.BiRads, "breast_composition": v.BreastComposition, "laterality": Laterality, "bpe": v.Bpe,
}
CALC_CHOICES = {"laterality": Breast, "morphology": v.Morphology, "distribution": v.Distribution,
                "quadrant": v.Quadrant, "depth": v.Depth, "observed_change": v.ObservedChange,
                "count_bin": v.CountBin}
ENH_CHOICES = {"laterality": Breast, "lesion_type": v.LesionType, "mass_shape": v.MassShape,
               "mass_margin": v.MassMargin, "nme_distribution": v.NmeDistribution,
               "nme_pattern": v.NmePattern,
               "kinetics_initial": v.KineticsInitial, "kinetics_delayed": v.KineticsDelayed,
               "quadrant": v.Quadrant, "depth": v.Depth, "observed_change": v.ObservedChange}

TEXT = ("EXAM: Bilateral diagnostic mammogram\nFINDINGS: Heterogeneously dense.\n"
        "Left breast: grouped fine pleomorphic calcifications at 2 o\u2019clock spanning 1.2 cm, new.\n"
        "IMPRESSION: BI-RADS 4B.")


def _values_fit(obj: object, choices: dict) -> bool:
    """Each value is None or one of the field's choices, as a plain str (not a TextChoices member)."""
    values = [(getattr(obj, name), kind) for name, kind in choices.items()]
    return all(value is None or (type(value) is str and value in kind.values) for value, kind in values)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_value_proposed_is_a_vocabulary_choice(case):
    proposal = extract(case.text, case.modality)
    assert _values_fit(proposal, CHOICES)
    assert all(_values_fit(c, CALC_CHOICES) for c in proposal.calcifications)
    assert all(_values_fit(e, ENH_CHOICES) for e in proposal.enhancements)
    assert all(c.clock is None or 1 <= c.clock <= 12 for c in proposal.calcifications + proposal.enhancements)


@pytest.mark.parametrize("case", CASES[::7], ids=lambda c: c.id)
def test_every_evidence_span_quotes_the_report(case):
    for span in extract(case.text, case.modality).evidence.values():
        assert case.text[span.start:span.end] == span.text


def test_evidence_names_each_proposed_field_and_keeps_the_original_characters():
    proposal = extract(TEXT, "MG")
    evidence = proposal.evidence
    assert {"birads", "breast_composition", "laterality", "calcifications[0].morphology",
            "calcifications[0].distribution", "calcifications[0].extent_mm", "calcifications[0].clock",
            "calcifications[0].observed_change", "calcifications[0].laterality"} <= set(evidence)
    assert evidence["calcifications[0].clock"].text == "2 o\u2019clock"
    assert evidence["calcifications[0].extent_mm"].text == "1.2 cm"


def test_proposals_are_frozen_with_slots():
    proposal = extract(TEXT, "MG")
    with pytest.raises(dataclasses.FrozenInstanceError):
        proposal.birads = "1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        proposal.calcifications[0].morphology = "round"
    assert not hasattr(proposal, "__dict__") and not hasattr(proposal.calcifications[0], "__dict__")
    assert isinstance(proposal.calcifications, tuple)


def test_as_dict_is_plain_json():
    data = json.loads(json.dumps(extract(TEXT, "MG").as_dict()))
    assert data["birads"] == "4B"
    assert data["calcifications"][0]["extent_mm"] == "12"
    assert data["evidence"]["birads"]["text"] == "BI-RADS 4B"


@pytest.mark.parametrize("text, modality", [
    ("Bilateral mammogram. Grouped amorphous calcifications in the left breast.", "MG"),
    ("Breast MRI. A 12 mm enhancing mass with washout kinetics in the left breast.", "MR"),
    ("BI-RADS 2.", None),
])
def test_modality_is_inferred_when_not_given(text, modality):
    assert extract(text).modality == modality


def test_an_unknown_modality_reads_calcifications_and_lesions():
    proposal = extract("Amorphous calcifications in the left breast. "
                       "A 9 mm enhancing mass in the right breast.")
    assert (len(proposal.calcifications), len(proposal.enhancements)) == (1, 1)


def test_an_ultrasound_report_gets_study_fields_only():
    proposal = extract("Right breast ultrasound. A 9 mm oval mass at 10 o'clock. BI-RADS 3.", "US")
    assert (proposal.birads, proposal.calcifications, proposal.enhancements) == ("3", (), ())


def test_empty_text_proposes_nothing():
    assert extract("", "MG") == Proposal(modality="MG")


def test_a_proposal_compares_by_value_not_by_evidence():
    assert CalcProposal("left", "round") == dataclasses.replace(CalcProposal("left", "round"), evidence={})
