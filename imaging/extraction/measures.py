"""Numbers in a report: sizes (mm and cm, "12 x 8 mm"), clock positions, labels, counts, depth.

A size is read as the finding's current size unless its neighbours say otherwise:
"previously 15 mm", "from 2 cm to 1.2 cm" (the first is old), "4 cm from the nipple" (a
nipple distance), "2 cm posterior to the clip" (a distance), "a 9 mm circumscribed mass"
(another object's size, on a mammogram).
"""

from __future__ import annotations

import re
from decimal import Decimal

from imaging.vocabulary import CountBin

from . import terms as t
from .lexicon import Mention, Token

SIZE, OLD_SIZE, NIPPLE, CLOCK, LABEL, COUNT, COUNT_BIN, DEPTH = (
    "size", "old_size", "nipple", "clock", "label", "count", "count_bin", "depth")

_NUM = r"\d+(?:[.,]\d+)?"
_UNIT = r"(?:mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)"
_SIZE = re.compile(
    rf"(?<![\w.])(?P<a>{_NUM})(?:\s*(?:mm|cm))?"
    rf"(?:\s*(?:x|by|\*)\s*(?P<b>{_NUM})(?:\s*(?:mm|cm))?)?"
    rf"(?:\s*(?:x|by|\*)\s*(?P<c>{_NUM}))?"
    rf"(?:\s*-\s*(?P<to>{_NUM}))?"
    rf"\s*-?\s*(?P<unit>{_UNIT})\b", re.IGNORECASE)
_CLOCK = re.compile(
    r"(?<![\d:.])(?P<h>1[0-2]|0?[1-9])(?:\s*:\s*(?P<m>[0-5]\d)|\s*-?\s*o\s*'?\s*-?\s*clock\b|\s*oclock\b)",
    re.IGNORECASE)
_LABEL = re.compile(
    r"\b(?i:group|cluster|lesion)\s*(?:#|no\.?)?\s*(?P<a>[A-Z]{1,3}-?[A-Z]*\d{1,2}|\d{1,2}|[A-Z])\b(?!\s*(?:mm|cm|x)\b)"
    r"|\((?i:group\s+)?(?P<b>[LR]-?[A-Z]{0,3}-?\d{1,2})\)"
    r"|\b(?i:left|right)\s+(?P<c>[LR]-?[A-Z]{0,3}-?\d{1,2})\s*:")  # "Left L1:", as the tracker writes it
_COUNT = re.compile(
    r"\b(?P<n>\d{1,3})\s+(?:(?!(?:groups?|clusters?|of|mm|cm|x)\b)[a-z-]+\s+){0,3}?(?:micro)?calc",
    re.IGNORECASE)
_MORE_THAN_20 = re.compile(r"(?:more than|over|greater than|>)\s*(?:20|twenty)\b", re.IGNORECASE)
# A count bin written as such ("6-10,"): only where no unit follows it.
_BIN = re.compile(r"(?<![\w.-])(?P<bin>1-5|6-10|11-20)(?=\s*(?:[,;.)]|$|(?:micro)?calc))", re.IGNORECASE)
_DEPTH = re.compile(r"\b(?P<a>anterior|middle|mid|posterior)\s+(?:depth|third)\b"
                    r"|\bdepth\s*[:\-]?\s*(?P<b>anterior|middle|mid|posterior)\b", re.IGNORECASE)

_AFTER_OLD = ({"previously"}, {"prior"}, {"before"}, {"earlier"}, {"at", "baseline"}, {"on", "the", "prior"})
_SPATIAL = frozenset({"posterior", "anterior", "superior", "inferior", "medial", "lateral", "deep", "away",
                      "behind", "above", "below", "beyond", "inferolateral", "superolateral"})


def mm(number: str, unit: str) -> Decimal:
    """Millimetres to 0.1 mm, written without a needless ".0" (and never as 1E+2)."""
    value = Decimal(number.replace(",", "."))
    value = (value * 10 if unit.lower().startswith("c") else value).quantize(Decimal("0.1"))
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _size_mm(match: re.Match[str]) -> Decimal:
    numbers = [match.group(k) for k in ("a", "b", "c", "to") if match.group(k)]
    return max(mm(n, match.group("unit")) for n in numbers)


def regex_mentions(text: str, offset: int, tokens: list[Token]) -> list[Mention]:
    """Sizes (still unclassified), clocks, labels, counts and depth in one unit's text."""
    def at(kind: str, value: str, m: re.Match[str], span: str | int = 0) -> Mention:
        return _mention(kind, value, m, offset, tokens, span)

    more_than = list(_MORE_THAN_20.finditer(text))
    found = [at(SIZE, str(_size_mm(m)), m) for m in _SIZE.finditer(text)]
    # A half hour ("1:30") has no place on the 12-position clock field.
    found += [at(CLOCK, str(int(m.group("h"))), m) for m in _CLOCK.finditer(text)
              if m.group("m") in (None, "00")]
    # The whole "group 1" is the label's (its "group" is no distribution); of "Left L1:" only "L1" is.
    found += [at(LABEL, (m.group("a") or m.group("b") or m.group("c")).upper(), m, "c" if m.group("c") else 0)
              for m in _LABEL.finditer(text)]
    found += [at(COUNT_BIN, CountBin.C_GT_20.value, m) for m in more_than]
    found += [at(COUNT_BIN, m.group("bin"), m) for m in _BIN.finditer(text)]
    found += [at(COUNT, m.group("n"), m, "n") for m in _COUNT.finditer(text)
              if not any(b.start() <= m.start("n") < b.end() for b in more_than)]  # "more than 20"
    found += [at(DEPTH, _depth(m.group("a") or m.group("b")), m) for m in _DEPTH.finditer(text)]
    return [m for m in found if m.first < m.last]


def _depth(word: str) -> str:
    return "middle" if word.lower().startswith("mid") else word.lower()


def _mention(kind: str, value: str, m: re.Match[str], offset: int, tokens: list[Token],
             span: str | int = 0) -> Mention:
    start, end = offset + m.start(span), offset + m.end(span)
    inside = [i for i, tok in enumerate(tokens) if tok.start >= start and tok.end <= end]
    return Mention(kind, value, start, end, inside[0] if inside else 0, inside[-1] + 1 if inside else 0)


def classify_sizes(mentions: list[Mention], tokens: list[Token], others: set[int]) -> list[Mention]:
    """Each size as SIZE (current), OLD_SIZE, NIPPLE, or dropped (a distance, another object)."""
    out = []
    for m in mentions:
        if m.kind != SIZE:
            out.append(m)
            continue
        role = _size_role(m, tokens, others)
        if role:
            out.append(Mention(role, m.value, m.start, m.end, m.first, m.last))
    return out


def _old_after(tokens: list[Token], i: int) -> bool:
    """"15 mm previously" is old; in "12 mm (previously 15 mm)" the cue is the next size's."""
    for cue in _AFTER_OLD:
        words = [tok.word for tok in tokens[i:i + len(cue) + 1]]
        if set(words[:len(cue)]) == cue and not (len(words) > len(cue) and words[-1][0].isdigit()):
            return True
    return False


def _size_role(m: Mention, tokens: list[Token], others: set[int]) -> str | None:
    after = [tok.word for tok in tokens[m.last:m.last + 3]]
    before = [tok.word for tok in tokens[max(0, m.first - 3):m.first]]
    if after[:1] == ["fn"] or (after[:1] == ["from"] and {"nipple", "areola"} & set(after)):
        return NIPPLE
    if after[:1] and after[0] in _SPATIAL:
        return None
    if {"to", "now"} & set(before[-2:]):  # "decreased from 2 cm to 12 mm", "now measuring 9 mm"
        return SIZE
    if t.PREVIOUS_WORDS & set(before) or _old_after(tokens, m.last):
        return OLD_SIZE
    if others & set(range(m.last, m.last + 3)):
        return None
    return SIZE
