"""The clinical rules a patient's record must keep (docs/clinical-rules.md, "Record integrity").

Pure functions: dates and codes in, `{field: [message, ...]}` out, no database. Every path
that writes a record applies them: the models' `clean()` (so the clinic's forms, the
services, the API and the HL7 feeds), the API's nested patient write
(`patients.services.patient_save`) and the CSV import (`registry.importer`), which check a
patient's rows against each other before anything is written.

Dates of one patient follow her course:

    birth < diagnosis <= NAC start <= NAC end <= surgery <= radiotherapy start <= RT end

Every NAC course lies between the diagnosis and the first surgery; every radiotherapy
course starts on or after the first surgery (a later operation, e.g. a completion
mastectomy, may follow radiotherapy). Nothing is dated before birth or after tomorrow
(`FUTURE_TOLERANCE`: a clinic east of Greenwich is already a day ahead of UTC).

Each check takes the record under check and `PatientDates`, the patient's *other*
records, and returns errors on the fields of the record under check.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from core.formatting import day_month_year

from . import vocabulary as v

FUTURE_TOLERANCE = timedelta(days=1)
# What the database refuses outright (check constraints): no clinical date lies outside.
EARLIEST = date(1900, 1, 1)
LATEST = date(2099, 12, 31)

Errors = dict[str, list[str]]

# RCB index → class (Symmans et al., J Clin Oncol 2007): 0 is RCB-0; the upper bound of
# each other class, inclusive.
RCB_UPPER = ((v.RcbClass.RCB_I, Decimal("1.36")), (v.RcbClass.RCB_II, Decimal("3.28")))
RCB_INDEX_MAX = Decimal("10")


@dataclass(frozen=True)
class Span:
    """A treatment course: its start and, once it ended, its end."""

    start: date | None
    end: date | None = None

    @property
    def last(self) -> date | None:
        return self.end or self.start


@dataclass(frozen=True)
class PatientDates:
    """The dates of a patient's records other than the one under check."""

    birth: date | None = None
    diagnosis: date | None = None
    nac: tuple[Span, ...] = ()
    surgeries: tuple[date, ...] = ()
    radiotherapy: tuple[Span, ...] = ()
    others: tuple[date, ...] = field(default=())  # visits and outcome events

    @property
    def first_surgery(self) -> date | None:
        return min(self.surgeries, default=None)


def _d(day: date) -> str:
    return day_month_year(day)


def _add(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _dates(values: Iterable[date | None]) -> list[date]:
    return [d for d in values if isinstance(d, date)]


def when_errors(day: date | None, name: str, what: str, *, birth: date | None,
                today: date) -> Errors:
    """`day` (the date of `what`, e.g. "The visit") not in the future and not before birth."""
    errors: Errors = {}
    if not isinstance(day, date):
        return errors
    if day > today + FUTURE_TOLERANCE:
        _add(errors, name, f"{what} cannot be in the future.")
    elif day < EARLIEST:
        _add(errors, name, f"{what} cannot be before {EARLIEST.year}.")
    elif isinstance(birth, date) and day < birth:
        _add(errors, name, f"{what} cannot be before the date of birth ({_d(birth)}).")
    return errors


def _merge(*parts: Errors) -> Errors:
    out: Errors = {}
    for part in parts:
        for name, messages in part.items():
            for message in messages:
                if message not in out.get(name, []):
                    _add(out, name, message)
    return out


def patient_errors(birth: date | None, dates: PatientDates, *, today: date) -> Errors:
    """Date of birth: not in the future, before the diagnosis, not after any treatment."""
    errors: Errors = {}
    if not isinstance(birth, date):
        return errors
    if birth > today:
        _add(errors, "date_of_birth", "Date of birth cannot be in the future.")
        return errors
    if birth < EARLIEST:
        _add(errors, "date_of_birth", f"Date of birth cannot be before {EARLIEST.year}.")
        return errors
    if dates.diagnosis and birth >= dates.diagnosis:
        _add(errors, "date_of_birth",
             f"Date of birth must be before the diagnosis ({_d(dates.diagnosis)}).")
        return errors
    recorded = _dates([*(s.start for s in dates.nac), *dates.surgeries,
                       *(s.start for s in dates.radiotherapy), *dates.others])
    if recorded and birth > min(recorded):
        _add(errors, "date_of_birth", "Date of birth cannot be after a recorded treatment, "
                                      f"visit or event ({_d(min(recorded))}).")
    return errors


def tumour_errors(diagnosis: date | None, diagnosis_mammogram: date | None,
                  dates: PatientDates, *, today: date) -> Errors:
    """Diagnosis after birth, not in the future, on or before NAC and surgery."""
    errors = when_errors(diagnosis, "diagnosis_date", "The diagnosis", birth=None, today=today)
    if isinstance(diagnosis, date) and not errors:
        if dates.birth and diagnosis <= dates.birth:
            _add(errors, "diagnosis_date",
                 f"The diagnosis must be after the date of birth ({_d(dates.birth)}).")
        nac_starts = _dates(s.start for s in dates.nac)
        if nac_starts and diagnosis > min(nac_starts):
            _add(errors, "diagnosis_date", "The diagnosis cannot be after the start of NAC "
                                           f"({_d(min(nac_starts))}).")
        elif dates.first_surgery and diagnosis > dates.first_surgery:
            _add(errors, "diagnosis_date",
                 f"The diagnosis cannot be after the surgery ({_d(dates.first_surgery)}).")
    return _merge(errors, when_errors(diagnosis_mammogram, "diagnosis_mammogram_date",
                                      "The diagnosis mammogram", birth=dates.birth, today=today))


def _span_errors(span: Span, what: str, dates: PatientDates, today: date) -> Errors:
    errors = _merge(when_errors(span.start, "start_date", f"The start of {what}",
                                birth=dates.birth, today=today),
                    when_errors(span.end, "end_date", f"The end of {what}",
                                birth=dates.birth, today=today))
    if span.start and span.end and span.end < span.start:
        _add(errors, "end_date", f"{what[0].upper()}{what[1:]} end date cannot be before its "
                                 "start date.")
    return errors


def nac_errors(span: Span, dates: PatientDates, *, today: date) -> Errors:
    """A NAC course: on or after the diagnosis, ended on or before the first surgery."""
    errors = _span_errors(span, "NAC", dates, today)
    if span.start and "start_date" not in errors:
        if dates.diagnosis and span.start < dates.diagnosis:
            _add(errors, "start_date",
                 f"NAC cannot start before the diagnosis ({_d(dates.diagnosis)}).")
        elif dates.first_surgery and span.start > dates.first_surgery:
            _add(errors, "start_date",
                 f"NAC cannot start after the surgery ({_d(dates.first_surgery)}).")
    if span.end and not errors and dates.first_surgery and span.end > dates.first_surgery:
        _add(errors, "end_date", f"NAC cannot end after the surgery ({_d(dates.first_surgery)}).")
    return errors


def surgery_errors(day: date | None, dates: PatientDates, *, today: date) -> Errors:
    """Surgery: on or after the diagnosis and the end of every NAC course; the first
    surgery on or before the start of every radiotherapy course."""
    errors = when_errors(day, "date", "The surgery", birth=dates.birth, today=today)
    if not isinstance(day, date) or errors:
        return errors
    nac_ends = _dates(s.last for s in dates.nac)
    rt_starts = _dates(s.start for s in dates.radiotherapy)
    if dates.diagnosis and day < dates.diagnosis:
        _add(errors, "date", f"The surgery cannot be before the diagnosis ({_d(dates.diagnosis)}).")
    elif nac_ends and day < max(nac_ends):
        _add(errors, "date", f"The surgery cannot be before the end of NAC ({_d(max(nac_ends))}).")
    elif (rt_starts and day > min(rt_starts)
          and (dates.first_surgery is None or day < dates.first_surgery)):
        _add(errors, "date", "The first surgery cannot be after the start of radiotherapy "
                             f"({_d(min(rt_starts))}).")
    return errors


def radiotherapy_errors(span: Span, dates: PatientDates, *, today: date) -> Errors:
    """Radiotherapy: starts on or after the first surgery."""
    errors = _span_errors(span, "radiotherapy", dates, today)
    if (span.start and "start_date" not in errors and dates.first_surgery
            and span.start < dates.first_surgery):
        _add(errors, "start_date", "Radiotherapy cannot start before the surgery "
                                   f"({_d(dates.first_surgery)}).")
    return errors


def pathology_errors(*, ypt: str, ypn: str, residual_dcis: bool, rcb_class: str,
                     rcb_index: Decimal | float | None) -> Errors:
    """Pathology consistent with itself.

    1. No residual invasive disease in the breast or the nodes (ypT0 or ypTis, and ypN0)
       is RCB-0, and RCB-0 is exactly that: the RCB class follows ypT/ypN.
    2. ypT0 means no residual invasive *or in-situ* disease: residual DCIS is ypTis.
    3. The RCB index lies in its class's range (0; ≤ 1.36; ≤ 3.28; above).
    """
    errors: Errors = {}
    complete = ypt in (v.YpT.T0, v.YpT.TIS) and ypn == v.YpN.N0
    stage = f"{ypt} {ypn}".strip()
    if rcb_class == v.RcbClass.RCB_0 and ypt and (ypt not in (v.YpT.T0, v.YpT.TIS)
                                                  or ypn not in ("", v.YpN.N0)):
        _add(errors, "rcb_class", f"RCB-0 means no residual invasive disease (ypT0/Tis ypN0), "
                                  f"but the stage is {stage}.")
    elif rcb_class and rcb_class != v.RcbClass.RCB_0 and complete:
        _add(errors, "rcb_class", f"{stage} is a complete response (RCB-0), not "
                                  f"RCB-{rcb_class}: check the stage or the RCB class.")
    if residual_dcis and ypt == v.YpT.T0:
        _add(errors, "residual_dcis", "ypT0 means no residual invasive or in-situ disease: "
                                      "with residual DCIS the stage is ypTis.")
    if rcb_index is not None and rcb_class and "rcb_class" not in errors:
        index = Decimal(str(rcb_index))
        expected = rcb_class_for(index)
        if expected != rcb_class:
            _add(errors, "rcb_index", f"An RCB index of {index} is RCB-{expected}, "
                                      f"not RCB-{rcb_class}.")
    return errors


def rcb_class_for(index: Decimal) -> str:
    """The RCB class of an RCB index."""
    if index == 0:
        return v.RcbClass.RCB_0
    for rcb_class, upper in RCB_UPPER:
        if index <= upper:
            return rcb_class
    return v.RcbClass.RCB_III
