"""A report as a list of units (sentences, or a "Key: value" block), each in its section.

Offsets always refer to the caller's original text: normalisation only swaps characters
one for one, so every span shown as evidence points at what the radiologist wrote.

1. Lines are classed: a section heading ("FINDINGS:", "Clinical history:"), a breast heading
   ("LEFT BREAST:", "R:"), an attribute line of a structured block ("Morphology: amorphous"),
   or text.
2. Attribute lines are joined to the unit before them, so one structured block is one unit.
3. Text is split into sentences; a sentence opening with a breast heading sets the breast
   for what follows until the next breast or section heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One-for-one replacements keep offsets valid.
_SAME_LENGTH = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " ", "\u2010": "-", "\u2011": "-",
                              "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u00d7": "x", "\t": " "})

# Section kinds whose sentences describe this study's findings.
FINDING_SECTIONS = frozenset({"title", "findings", "impression", "assessment"})

_SECTION_WORDS: dict[str, tuple[str, ...]] = {
    "history": ("history", "clinical history", "clinical", "clinical indication", "indication",
                "indications", "reason", "reason for exam", "clinical details", "clinical information",
                "hx", "clinical data", "background"),
    "comparison": ("comparison", "comparisons", "prior studies", "priors", "prior", "compared"),
    "technique": ("technique", "protocol", "views"),
    "title": ("exam", "examination", "procedure", "study", "title", "exam type"),
    "findings": ("findings", "report", "description", "results", "result", "mammographic findings",
                 "mri findings", "breast findings"),
    "impression": ("impression", "conclusion", "conclusions", "opinion", "summary", "imp", "comment",
                   "comments", "diagnosis"),
    "assessment": ("assessment", "final assessment", "overall assessment", "overall", "recommendation",
                   "recommendations", "bi-rads", "birads", "bi-rads assessment"),
}
_ONE_LINE_SECTIONS = frozenset({"history", "comparison", "technique", "title"})
_SECTION_OF = {word: kind for kind, words in _SECTION_WORDS.items() for word in words}

# Used with match(text, pos): no "^", which would only anchor at the start of the whole text.
_BREAST_HEAD = re.compile(
    r"\s*(?P<label>(?P<side>left|right|lt|rt|l|r)(?:\s+(?:breast|side))?(?:\s+findings)?)\s*(?::|\s-\s)\s*",
    re.IGNORECASE)
_KEY_LINE = re.compile(r"^\s*(?:[-*\u2022]\s*)?(?P<key>[A-Za-z][A-Za-z /()&-]{0,40}?)\s*:\s*(?P<rest>.*)$")
# Keys of one finding's structured block ("Morphology: fine pleomorphic").
_ATTRIBUTE_KEYS = ("morphology", "distribution", "extent", "size", "location", "change", "observed change",
                   "type", "lesion type", "shape", "margin", "margins", "kinetics", "initial phase",
                   "delayed phase", "curve", "quadrant", "clock", "depth", "count", "number",
                   "internal enhancement", "pattern", "enhancement pattern", "group", "label")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\d])")
_HISTORY_SENTENCE = re.compile(r"\s*(?:hx|history|clinical|indication)\b", re.IGNORECASE)
_NO_SPLIT_BEFORE = re.compile(r"(?:\b(?:e\.g|i\.e|approx|vs|dr|no|cf|fig)\.|\b\d\.)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Unit:
    start: int
    end: int
    text: str  # the original characters start:end
    section: str  # a key of _SECTION_WORDS
    breast: str | None  # set by a breast heading above or at the start of this unit
    heading: tuple[int, int] | None = None  # span of that breast heading, for evidence
    first_line: bool = False

    @property
    def describes_findings(self) -> bool:
        return self.section in FINDING_SECTIONS


def normalise(text: str) -> str:
    return text.translate(_SAME_LENGTH)


def _section_kind(key: str) -> str | None:
    key = re.sub(r"\s+", " ", key.strip().lower().rstrip(".")).replace("birads", "bi-rads")
    return _SECTION_OF.get(key)


def _is_attribute_key(key: str) -> bool:
    key = key.strip().lower().split("(")[0].strip()
    return key in _ATTRIBUTE_KEYS


@dataclass
class _State:
    section: str = "findings"
    breast: str | None = None
    heading: tuple[int, int] | None = None
    joinable: bool = False  # the last unit can take the attribute lines that follow
    resume: str | None = None  # the section after a one-line "Comparison: 2023." heading

    def enter(self, section: str, one_line: bool = False) -> None:
        self.resume = (self.resume or self.section) if one_line else None
        self.section, self.breast, self.heading, self.joinable = section, None, None, False

    def end_line(self) -> None:
        if self.resume:
            self.section, self.resume, self.breast, self.heading = self.resume, None, None, None


def _side(word: str) -> str:
    return "left" if word.lower().startswith("l") else "right"


def split_units(text: str) -> list[Unit]:
    """The units of a (normalised) report, in order."""
    units: list[Unit] = []
    state = _State()
    offset = 0
    first = True
    for line in text.splitlines(keepends=True):
        start, body = offset, line.rstrip("\r\n")
        offset += len(line)
        if not body.strip():
            continue
        key_line = _KEY_LINE.match(body)
        if key_line and _is_attribute_key(key_line.group("key")) and state.joinable:
            last = units[-1]
            units[-1] = Unit(last.start, start + len(body), text[last.start:start + len(body)],
                             last.section, last.breast, last.heading, last.first_line)
            continue
        content_start = _apply_heading(body, start, key_line, state)
        if content_start is not None:
            added = _sentences(text, content_start, start + len(body), state, first)
            units += added
            state.joinable = bool(added)
        state.end_line()
        first = False
    return units


def _apply_heading(body: str, start: int, key_line: re.Match[str] | None, state: _State) -> int | None:
    """Update the section from a heading line; where the line's own text starts, or None."""
    bare = body.strip().rstrip(":").strip()
    kind = _section_kind(bare) if len(bare) < 40 and (body.rstrip().endswith(":") or bare.isupper()) else None
    if kind:
        state.enter(kind)
        return None
    if key_line:
        kind = _section_kind(key_line.group("key"))
        if kind:
            inline = bool(key_line.group("rest").strip())
            # "Comparison: 2023." covers its own line; "Findings: The breasts..." runs on.
            state.enter(kind, one_line=inline and kind in _ONE_LINE_SECTIONS)
            return start + key_line.start("rest") if inline else None
    return start


def _sentences(text: str, begin: int, end: int, state: _State, first_line: bool) -> list[Unit]:
    units = []
    for s_start, s_end in _sentence_spans(text, begin, end):
        heading = _BREAST_HEAD.match(text, s_start, s_end)
        if heading:
            state.breast = _side(heading.group("side"))
            state.heading = heading.span("label")
            s_start = heading.end()
            if s_start >= s_end:
                continue
        # An unheaded "History of left breast cancer." describes the patient, not this study.
        section = "history" if _HISTORY_SENTENCE.match(text, s_start, s_end) else state.section
        units.append(Unit(s_start, s_end, text[s_start:s_end], section, state.breast, state.heading,
                          first_line))
        first_line = False
    return units


def _sentence_spans(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    spans, start = [], begin
    while start < end and text[start].isspace():
        start += 1
    for match in _SENTENCE_END.finditer(text, start, end):
        if _NO_SPLIT_BEFORE.search(text, start, match.start()):
            continue
        spans.append((start, match.start()))
        start = match.end()
    if start < end:
        spans.append((start, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]
