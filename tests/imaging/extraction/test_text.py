"""Report structure: sections, breast headings, structured blocks, sentences."""

import pytest

from imaging.extraction.text import normalise, split_units


def units(text: str):
    return split_units(normalise(text))


def test_normalising_keeps_every_offset():
    text = "Grouped calcifications at 2 o\u2019clock \u2013 stable.\u00a0BI-RADS 2."
    assert len(normalise(text)) == len(text)
    for unit in units(text):
        assert normalise(text)[unit.start:unit.end] == unit.text


@pytest.mark.parametrize("text, sections", [
    ("HISTORY: left breast cancer.\nThe breasts are dense.", ["history", "findings"]),
    ("Comparison: 2023.\nGrouped calcifications.", ["comparison", "findings"]),
    ("FINDINGS:\nDense.\nStable.\nIMPRESSION:\nBenign.", ["findings", "findings", "impression"]),
    ("Findings: Dense. Stable.\nOpinion: Benign.", ["findings", "findings", "impression"]),
    ("History of left breast cancer. Grouped calcifications.", ["history", "findings"]),
    ("EXAM: Bilateral mammogram\nClinical details: NAC 2021.\nFatty breasts.",
     ["title", "history", "findings"]),
    ("TECHNIQUE:\nCC and MLO views.\nBI-RADS: 2", ["technique", "assessment"]),
])
def test_sections(text, sections):
    assert [u.section for u in units(text)] == sections


@pytest.mark.parametrize("text, breasts", [
    ("LEFT BREAST:\nAmorphous.\nStable.\nRIGHT: Negative.\nIMPRESSION: Benign.",
     ["left", "left", "right", None]),
    ("Findings: Dense. Left breast: amorphous calcifications. Right breast: negative.",
     [None, "left", "right"]),
    ("L: post-op changes.\nR: 1.3 cm mass.", ["left", "right"]),
    ("Left breast - stable scar.", ["left"]),
    ("Right breast, 10 o'clock: grouped calcifications.", [None]),
])
def test_breast_headings_hold_until_the_next_heading(text, breasts):
    assert [u.breast for u in units(text)] == breasts


def test_a_structured_block_is_one_unit():
    found = units("Calcifications, left breast (group L1):\n  Morphology: amorphous\n  Extent: 9 mm\n"
                  "Masses: none.")
    assert len(found) == 2
    assert found[0].text.endswith("Extent: 9 mm")
    assert found[1].text == "Masses: none."


def test_attribute_lines_after_a_heading_do_not_join_the_section_before():
    found = units("Impression: stable.\nFINDINGS:\nSize: 12 mm")
    assert [u.text for u in found] == ["stable.", "Size: 12 mm"]


@pytest.mark.parametrize("text, count", [
    ("Spanning 1.2 cm. Stable.", 2),
    ("1. Right breast calcifications. 2. Left breast clear.", 2),
    ("Approx. 12 mm, e.g. stable. New.", 2),
    ("At 2 o'clock. The left breast is fatty.", 2),
])
def test_sentences(text, count):
    assert len(units(text)) == count
