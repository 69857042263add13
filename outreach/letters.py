"""The four letters, rendered to self-contained HTML in the reader's language. No database.

Inputs are plain values (`Letterhead`, `Person`, `Exam`, `StudyResult`); the wording is in
`outreach/templates/outreach/letters/` and translated in `outreach/locale/` (Django i18n).
`render_letter` activates the letter's language while it renders, so dates, month names
and every sentence come out in that language; the pages around them stay in English.

Result letters put the BI-RADS assessment in plain words, as mammography services write
to patients (normal, benign, probably benign with a short-interval check, more pictures
needed, a finding that needs more tests, a known cancer), and tell a patient whose breast
tissue is dense (composition c or d) what that means.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from imaging.vocabulary import SUSPICIOUS_BIRADS, BreastComposition

from .models import LetterKind

EXAM_WORDS = {
    "clinical_exam": _("Clinical examination"),
    "mammogram": _("Mammogram"),
    "diagnostic_mammogram": _("Diagnostic mammogram"),
    "mri": _("Breast MRI scan"),
}
SIDE_WORDS = {"left": _("left breast"), "right": _("right breast"), "bilateral": _("both breasts")}
STUDY_WORDS = {"MG": _("mammogram"), "MR": _("breast MRI scan"), "US": _("breast ultrasound")}
DENSE = frozenset({BreastComposition.C, BreastComposition.D})

# BI-RADS assessment → the plain-language result a patient is told.
NORMAL, BENIGN, PROBABLY_BENIGN, INCOMPLETE, SUSPICIOUS, KNOWN_CANCER = (
    "normal",
    "benign",
    "probably_benign",
    "incomplete",
    "suspicious",
    "known_cancer",
)


def result_category(birads: str) -> str:
    """The result to tell the patient for a final BI-RADS assessment (ValueError if none)."""
    if birads in SUSPICIOUS_BIRADS:
        return SUSPICIOUS
    categories = {"0": INCOMPLETE, "1": NORMAL, "2": BENIGN, "3": PROBABLY_BENIGN, "6": KNOWN_CANCER}
    if birads not in categories:
        raise ValueError(f"no result to tell for BI-RADS {birads!r}")
    return categories[birads]


@dataclass(frozen=True)
class Letterhead:
    """Who writes: a site's `LetterTemplate`, or its default (version 0)."""

    name: str
    address_lines: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""
    opening_hours: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    footer: str = ""
    version: int = 0


@dataclass(frozen=True)
class Person:
    """The patient (or her GP) as the letter addresses them."""

    name: str
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exam:
    kind: str
    laterality: str
    due_date: date
    overdue: bool = False

    @property
    def words(self) -> str:
        text = str(EXAM_WORDS.get(self.kind, self.kind))
        if self.laterality:
            text += f" — {SIDE_WORDS.get(self.laterality, self.laterality)}"
        return text


@dataclass(frozen=True)
class StudyResult:
    modality: str
    study_date: date
    birads: str
    breast_composition: str = ""

    @property
    def words(self) -> str:
        return str(STUDY_WORDS.get(self.modality, self.modality))

    @property
    def category(self) -> str:
        return result_category(self.birads)

    @property
    def dense(self) -> bool:
        return self.modality == "MG" and self.breast_composition in DENSE


@dataclass(frozen=True)
class LetterInput:
    """Everything a letter says, whatever its kind."""

    kind: str
    language: str
    letterhead: Letterhead
    recipient: Person
    patient: Person
    mrn: str
    date_of_birth: date
    reference: str
    today: date
    exams: Sequence[Exam] = ()
    study: StudyResult | None = None
    next_exam: Exam | None = None
    surgery_date: date | None = None
    attempts: int = 0
    gp_greeting: str = ""
    extra: dict = field(default_factory=dict)


TEMPLATES = {
    LetterKind.DUE_REMINDER: "outreach/letters/due_reminder.html",
    LetterKind.OVERDUE_RECALL: "outreach/letters/overdue_recall.html",
    LetterKind.RESULT: "outreach/letters/result.html",
    LetterKind.GP: "outreach/letters/gp.html",
}


def render_letter(letter: LetterInput) -> str:
    """The letter as one HTML document (CSS inline), in `letter.language`."""
    with translation.override(letter.language):
        return render_to_string(TEMPLATES[letter.kind], {"l": letter, "language": letter.language})


def sample_letter(kind: str, language: str, letterhead: Letterhead, today: date) -> str:
    """The letter of `kind` for an invented patient: the template page's preview."""
    patient = Person(name="Jane Sample", address_lines=("1 Example Street", "Sampletown AB1 2CD"))
    gp = Person(
        name="Dr A. Example", address_lines=("Example Surgery", "2 High Street", "Sampletown AB1 3EF")
    )
    return render_letter(
        LetterInput(
            kind=kind,
            language=language,
            letterhead=letterhead,
            patient=patient,
            recipient=gp if kind == LetterKind.GP else patient,
            mrn="SAMPLE-0001",
            date_of_birth=date(1968, 4, 2),
            reference="SAMPLE",
            today=today,
            exams=()
            if kind == LetterKind.RESULT
            else (Exam("mammogram", "bilateral", today, overdue=kind != LetterKind.DUE_REMINDER),),
            study=StudyResult("MG", today, "2", "c") if kind in (LetterKind.RESULT, LetterKind.GP) else None,
            next_exam=Exam("clinical_exam", "", today + timedelta(days=365))
            if kind == LetterKind.RESULT
            else None,
            surgery_date=date(2022, 5, 10),
            attempts=2,
            gp_greeting=gp.name,
        )
    )
