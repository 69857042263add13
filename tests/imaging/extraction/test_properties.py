"""Properties over many generated inputs (hypothesis)."""

import re
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imaging.extraction import extract
from imaging.extraction.scoring import load_corpus

from .helpers import calc, lesion

CORPUS = Path(__file__).parent / "corpus"
REALISTIC = load_corpus(CORPUS / "handwritten.jsonl") + load_corpus(CORPUS / "handwritten_holdout.jsonl")
SOME_GENERATED = load_corpus(CORPUS / "generated.jsonl")[::9]

NEGATED = st.builds(
    "{} {}{}{}.".format,
    st.sampled_from(["No", "There is no", "There are no", "Negative for", "No evidence of", "No new",
                     "No other", "Without"]),
    st.sampled_from(["", "suspicious ", "new ", "malignant-appearing ", "residual ", "abnormal ",
                     "grouped "]),
    st.sampled_from(["calcifications", "microcalcifications", "amorphous calcifications", "mass",
                     "fine pleomorphic calcifications", "punctate calcifications", "enhancing mass",
                     "non-mass enhancement", "enhancement", "focus of enhancement",
                     "architectural distortion", "milk of calcium", "segmental NME with washout"]),
    st.sampled_from(["", " in the left breast", " in the right breast", " in either breast",
                     " at 2 o'clock", " in the upper outer quadrant", " spanning 1.2 cm",
                     " measuring 4 x 3 mm"]),
)
# Between two sentences of a line, or at the very end: where a radiologist might add one.
SENTENCE_GAP = re.compile(r"(?<=[.!?]) (?=[A-Z])")


def _kinds(proposal) -> set[tuple]:
    return ({("calc", c.laterality, c.morphology) for c in proposal.calcifications}
            | {("lesion", e.laterality, e.lesion_type) for e in proposal.enhancements})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(REALISTIC + SOME_GENERATED), sentence=NEGATED, data=st.data())
def test_an_irrelevant_negated_sentence_never_adds_a_finding(case, sentence, data):
    gaps = [m.end() for m in SENTENCE_GAP.finditer(case.text)] + [len(case.text)]
    at = data.draw(st.sampled_from(gaps), label="insert at")
    text = case.text[:at] + (" " if at == len(case.text) else "") + sentence + " " + case.text[at:]
    before, after = extract(case.text, case.modality), extract(text.rstrip(), case.modality)
    assert len(after.calcifications) <= len(before.calcifications)
    assert len(after.enhancements) <= len(before.enhancements)
    assert _kinds(after) <= _kinds(before)


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


@settings(max_examples=200, deadline=None)
@given(tenths=st.integers(1, 1500),
       template=st.sampled_from(["Grouped amorphous calcifications in the left breast measuring {}.",
                                 "A {} cluster of punctate calcifications in the right breast.",
                                 "Fine pleomorphic calcifications, left breast, extending over {}, stable.",
                                 "RIGHT BREAST: segmental casting-type calcifications ({})."]),
       mm_unit=st.sampled_from(["{} mm", "{}mm", "{} millimetres", "{}-mm"]),
       cm_unit=st.sampled_from(["{} cm", "{}cm", "{} centimeters", "{}-cm"]))
def test_cm_and_mm_spellings_of_one_size_give_one_extent(tenths, template, mm_unit, cm_unit):
    size = Decimal(tenths) / 10
    in_mm = calc(template.format(mm_unit.format(_plain(size)))).extent_mm
    in_cm = calc(template.format(cm_unit.format(_plain(size / 10)))).extent_mm
    assert in_mm == in_cm == size


@settings(max_examples=100, deadline=None)
@given(tenths=st.integers(1, 999), unit=st.sampled_from(["mm", "cm"]))
def test_a_lesion_size_is_read_in_mm(tenths, unit):
    size = Decimal(tenths) / 10
    written = size if unit == "mm" else size / 10
    assert lesion(f"A {_plain(written)} {unit} irregular enhancing mass in the left breast.").size_mm == size


WORDS = ["no", "not", "left", "right", "breast", "calcifications", "amorphous", "grouped", "mass", "NME",
         "enhancement", "washout", "type", "2", "12", "mm", "cm", "x", "o'clock", "10:00", "BI-RADS", "4A",
         "FINDINGS:", "LEFT:", "Morphology:", "previously", "from", "to", "nipple", "and", ";", ".", ",",
         "\n", "(", ")", "group", "L1", "stable", "no longer seen", "both breasts", "ACR", "C",
         "calcifcations"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join), st.text(max_size=300)),
       st.sampled_from(["MG", "MR", None]))
def test_any_text_gives_a_proposal_whose_evidence_quotes_it(text, modality):
    proposal = extract(text, modality)
    for span in proposal.evidence.values():
        assert text[span.start:span.end] == span.text
