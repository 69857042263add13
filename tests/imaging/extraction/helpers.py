"""Short ways to ask the extractor about one finding."""

from imaging.extraction import CalcProposal, EnhProposal, extract


def calcs(text: str) -> tuple[CalcProposal, ...]:
    return extract(text, "MG").calcifications


def calc(text: str) -> CalcProposal:
    found = calcs(text)
    assert len(found) == 1, found
    return found[0]


def lesions(text: str) -> tuple[EnhProposal, ...]:
    return extract(text, "MR").enhancements


def lesion(text: str) -> EnhProposal:
    found = lesions(text)
    assert len(found) == 1, found
    return found[0]
