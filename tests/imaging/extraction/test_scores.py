"""The scorer's counting, the targets on every corpus, the generator, the command."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from imaging.extraction import CalcProposal, EnhProposal, Proposal, extract
from imaging.extraction.scoring import Case, load_corpus, score

from .corpus import generate

CORPUS = Path(__file__).parent / "corpus"


def _case(**expected) -> Case:
    return Case("c1", "MG", "text", {"calcifications": [], "enhancements": [], **expected})


def _scored(case: Case, proposal: Proposal):
    return score([case], lambda text, modality: proposal)


def test_a_wrong_study_value_is_a_false_positive_and_a_false_negative():
    counts = _scored(_case(birads="4A"), Proposal("MG", birads="4B")).counts["birads"]
    assert (counts.tp, counts.fp, counts.fn) == (0, 1, 1)


def test_a_value_proposed_where_the_label_has_none_is_a_false_positive_only():
    counts = _scored(_case(laterality=None), Proposal("MG", laterality="left")).counts["laterality"]
    assert (counts.tp, counts.fp, counts.fn) == (0, 1, 0)


def test_an_unlabelled_field_is_not_scored():
    scores = _scored(_case(), Proposal("MG", birads="2"))
    assert scores.counts["birads"].fp == 0


def test_groups_pair_by_breast_and_morphology_and_then_compare_their_fields():
    label = {"laterality": "left", "morphology": "amorphous", "distribution": "grouped", "extent_mm": 12,
             "observed_change": None}
    proposal = Proposal("MG", calcifications=(
        CalcProposal("left", "amorphous", "segmental", Decimal("12")),
        CalcProposal("right", "round", "diffuse", None)))
    scores = _scored(_case(calcifications=[label]), proposal)
    morphology, distribution, extent = (scores.counts[k] for k in ("morphology", "distribution", "extent_mm"))
    assert (morphology.tp, morphology.fp, morphology.fn) == (1, 1, 0)
    assert (distribution.tp, distribution.fp, distribution.fn) == (0, 2, 1)  # wrong, plus the lone group's
    assert (extent.tp, extent.fp, extent.fn) == (1, 0, 0)


def test_a_group_in_the_wrong_breast_costs_each_of_its_fields():
    label = {"laterality": "left", "morphology": "amorphous", "distribution": "grouped", "extent_mm": 12}
    proposal = Proposal("MG", calcifications=(CalcProposal("right", "amorphous", "grouped", Decimal("12")),))
    counts = _scored(_case(calcifications=[label]), proposal).counts
    assert all((counts[k].tp, counts[k].fp, counts[k].fn) == (0, 1, 1)
               for k in ("morphology", "distribution", "extent_mm"))


def test_kinetics_count_two_slots_per_lesion():
    label = {"laterality": "left", "lesion_type": "mass", "kinetics_initial": "fast",
             "kinetics_delayed": "washout"}
    proposal = Proposal("MR", enhancements=(EnhProposal("left", "mass", kinetics_delayed="washout"),))
    counts = _scored(_case(enhancements=[label]), proposal).counts["kinetics"]
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 1)


def test_precision_and_recall_with_nothing_to_count_are_one():
    counts = _scored(_case(), Proposal("MG")).counts["morphology"]
    assert (counts.precision, counts.recall) == (1.0, 1.0)


@pytest.mark.parametrize("name, at_least", [("generated", 300), ("handwritten", 40),
                                            ("handwritten_holdout", 20)])
def test_every_corpus_meets_the_targets(name, at_least):
    cases = load_corpus(CORPUS / f"{name}.jsonl")
    assert len(cases) >= at_least
    assert score(cases, extract).failures() == []


def test_the_committed_corpus_is_the_generators_output():
    committed = (CORPUS / "generated.jsonl").read_text(encoding="utf-8")
    assert generate.dumps(generate.generate(generate.DEFAULT_SEED, generate.DEFAULT_COUNT)) == committed


def test_the_generator_covers_both_modalities_negations_and_typos():
    cases = generate.generate(generate.DEFAULT_SEED, generate.DEFAULT_COUNT)
    texts = [c["text"] for c in cases]
    assert {c["modality"] for c in cases} == {"MG", "MR"}
    assert sum("No " in t or " no " in t for t in texts) > 100
    assert sum(" cm" in t for t in texts) > 50 and sum(" mm" in t for t in texts) > 50
    assert sum(len(c["expected"]["calcifications"]) > 1 for c in cases) > 20


def test_the_command_prints_the_tables_and_passes(capsys):
    call_command("extraction_scores")
    out = capsys.readouterr().out
    assert "generated.jsonl (360 reports)" in out and "handwritten.jsonl (48 reports)" in out
    assert "Every target met." in out


def test_the_command_fails_when_a_target_is_missed(tmp_path):
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text('{"id": "w1", "modality": "MG", "text": "BI-RADS 2.", "expected": {"birads": "4A"}}\n')
    with pytest.raises(CommandError, match="BI-RADS"):
        call_command("extraction_scores", corpus=[wrong])


def test_the_command_refuses_a_missing_corpus(tmp_path):
    with pytest.raises(CommandError, match="No corpus"):
        call_command("extraction_scores", corpus=[tmp_path / "absent.jsonl"])
