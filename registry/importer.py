"""Import historical patients, treatment, studies and findings from a registry CSV.

1. Parse every row into unsaved model objects, collecting every problem with its row
   number and column (nothing stops at the first problem).
2. Check the rows against each other and against the database (references, duplicates,
   study rules), skipping what already exists: patients by site + MRN, studies by
   accession (else date + modality), treatment by its dates.
3. Only when there is no problem: write everything in one transaction (rolled back
   again for a dry run), with ids reserved up front and PostgreSQL COPY (registry/writer.py).
   A re-run of the same file finds everything present and writes nothing.

Cells are parsed by per-column parsers compiled from the model fields (registry/columns.py),
and a row's objects are validated like `Model.full_clean` would, minus the cells the
parsers already vouched for. The result, problems included, is what the original
importer (model instances, `full_clean` per row, `bulk_create`) gave: the golden files
of tests/registry/test_import_equivalence.py hold it to that.
"""

import csv
import gc
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from tqdm import tqdm

from audit.models import Action
from audit.services import audit_event, audit_record, audit_record_many
from core.roles import RADIOLOGIST
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from imaging.vocabulary import Modality, StudyStatus, count_bin_for
from outbox.models import Event
from patients import rules
from patients.models import NacCourse, Pathology, Patient, Radiotherapy, Site, Surgery, TumourProfile
from patients.rules import PatientDates, Span
from patients.vocabulary import derive_subtype, is_pcr

from . import writer
from .columns import MISSING, Column, callable_default
from .layout import (
    KEY_COLUMNS,
    NON_NEGATIVE_COLUMNS,
    PATHOLOGY,
    PERCENT_COLUMNS,
    RECORDS,
    all_columns,
)

STUDY_STATUSES = StudyStatus.values
STUDY_RECORDS = ("study", "calcification", "enhancement")
# Records whose dates `patients.rules` checks against the patient's other records.
DATED_RECORDS = ("tumour", "nac", "radiotherapy", "surgery")
# Rows are first checked on their own (`_full_clean`), against no other record; the
# patient's rows are then checked together (`_record_rules`).
ON_ITS_OWN = PatientDates()
FINDING_RECORDS = ("calcification", "enhancement")
__all__ = ["KEY_COLUMNS", "ImportReport", "Problem", "decode_upload", "import_registry"]


@dataclass(frozen=True)
class Problem:
    row: int  # 1 is the header; data rows start at 2, as in a spreadsheet
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)
    dry_run: bool = False
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def table(self) -> list[tuple[str, int, int]]:
        """(record, created or to create, already present) for each record type in the file."""
        return [(r, self.created[r], self.present[r]) for r in RECORDS
                if self.created[r] or self.present[r]]

    def lines(self) -> list[str]:
        out = [f"{self.rows} data rows read."]
        if self.problems:
            out.append(f"{len(self.problems)} problem(s); nothing was written:")
            out += [f"  {p}" for p in self.problems]
            return out
        verb = "would be created" if self.dry_run else "created"
        for record, created, present in self.table:
            out.append(f"  {record}: {created} {verb}, {present} already present")
        if self.dry_run:
            out.append("Dry run: nothing was written.")
        elif not sum(self.created.values()):
            out.append("Everything in the file was already present: nothing changed.")
        return out


class _Row:
    """One parsed data row: its number, record type, keys and unsaved object(s)."""

    __slots__ = ("number", "record", "cells", "at", "obj", "unchecked", "pathology",
                 "pathology_unchecked", "patient_key", "study_key", "calcs", "enhs", "signer_id")

    def __init__(self, number: int, record: str, cells: list[str], at: dict[str, int]):
        self.number = number
        self.record = record
        self.cells = cells
        self.at = at  # column name → position in `cells` (see RegistryImport.parse)
        self.obj: Any = None
        self.unchecked: list[models.Field] = []  # fields Field.clean still has to pass
        self.pathology: Pathology | None = None
        self.pathology_unchecked: list[models.Field] = []
        self.patient_key: tuple[str, str] = ("", "")
        self.study_key: tuple = ()

    def get(self, column: str) -> str:
        return self.cells[self.at[column]]


class _Spec:
    """How the rows of one record type become model instances, in this import."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...],
                 required: tuple[str, ...], at: dict[str, int]):
        self.model = model
        self.initial = _defaults(model)  # what Model() holds before any cell is read
        self.fresh = [f for f in model._meta.concrete_fields if callable_default(f)]
        # `base`: the initial values with every blank cell's value in (where it passes,
        # and is the same for every row). Per column: where its cell is, the texts already
        # read in this import with their (checked) values, and whether `base` holds it.
        self.base = dict(self.initial)
        self.cells = []
        for name in columns:
            column = _column(model, name)
            blank_passes = column.blank_checked
            if blank_passes:
                self.base[column.attname] = column.blank
            self.cells.append((column.attname, at[name], dict(column.lookup or {}), blank_passes,
                               column))
        self.required = [(name, at[name]) for name in required]
        names = {f.name for f in model._meta.concrete_fields}
        self.percent = [c for c in PERCENT_COLUMNS if c in names]
        self.non_negative = [c for c in NON_NEGATIVE_COLUMNS if c in names]
        self.range_checked = bool(self.percent or self.non_negative
                                  or model in (Patient, ImagingStudy, Surgery))


@cache
def _column(model: type[models.Model], name: str) -> Column:
    return Column(model._meta.get_field(name))


@cache
def _defaults(model: type[models.Model]) -> dict[str, Any]:
    """Every concrete field's initial value, as `Model()` sets it (callable defaults: None)."""
    return {f.attname: None if callable_default(f) else f.get_default()
            for f in model._meta.concrete_fields}


def _relate(obj: models.Model, name: str, parent: models.Model) -> None:
    """`obj.<name> = parent`, minus the descriptor's per-call router and type checks."""
    relation = obj._meta.get_field(name)
    obj.__dict__[relation.attname] = parent.pk
    obj._state.fields_cache[name] = parent  # what relation.set_cached_value does


def _instance(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    """An unsaved instance holding `values` (every concrete field's attname).

    `Model.__init__` costs ~20 µs with its signals and per-field work; these instances
    only carry values to `Model.clean` and the writer, never through `save()`.
    """
    obj = model.__new__(model)
    obj.__dict__ = values
    obj._state = ModelState()
    return obj


class RegistryImport:
    def __init__(self, *, default_site: Site | None = None, user: AbstractBaseUser | None = None,
                 progress: bool = False, allowed_sites: set[str] | None = None):
        self.default_site = default_site
        self.allowed_sites = allowed_sites
        self.user = user
        self.progress = progress
        self.report = ImportReport()
        self.rows: list[_Row] = []
        self.default_code = default_site.code if default_site else ""
        self.radiologists: dict[str, set[tuple[int, int | None]]] | None = None  # read once

    # -- 1. parse ---------------------------------------------------------------------------
    def problem(self, row: int, column: str, message: str) -> None:
        self.report.problems.append(Problem(row, column, message))

    def _bar(self, items: Iterable, desc: str, total: int | None = None):
        return tqdm(items, desc=desc, total=total, disable=not self.progress, unit="row",
                    leave=False)

    def parse(self, text: str) -> None:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None) or []
        if "record" not in header:
            self.problem(1, "record", "The header must have a 'record' column "
                                      "(see docs/registry-csv.md).")
            return
        known = set(all_columns())
        for column in header:
            if column not in known:
                self.problem(1, column or "(blank)", "Unknown column.")
        # As csv.DictReader read it: the last of a repeated column wins, blank lines are
        # skipped (and not numbered), short rows read as blanks. Columns the file does not
        # have point at one blank cell added at the end of every row.
        width = len(header)
        at = dict.fromkeys(known, width)
        at.update((name, i) for i, name in enumerate(header))
        record_at = at["record"]
        self.specs = {record: _Spec(model, columns, required, at)
                      for record, (model, columns, required) in RECORDS.items()}
        self.pathology_spec = _Spec(*PATHOLOGY, (), at)
        rows = self._bar(reader, "Reading") if self.progress else reader
        number = 1
        for cells in rows:
            if not cells:
                continue
            number += 1
            self.report.rows += 1
            if len(cells) > width:
                self.problem(number, "(row)", "More cells than header columns.")
                continue
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            cells.append("")
            record = cells[record_at].strip().lower()
            if record not in RECORDS:
                self.problem(number, "record",
                             f"'{record}' is not a record type. Allowed: {', '.join(RECORDS)}.")
                continue
            row = _Row(number, record, cells, at)
            self._parse_row(row)
            self.rows.append(row)

    def _build(self, row: _Row, spec: _Spec) -> tuple[models.Model, list[models.Field]]:
        """The row's object and the fields whose values `Field.clean` must still pass."""
        values = spec.base.copy()  # blank cells' values already in
        unchecked = []
        cells = row.cells
        for attname, i, seen, blank_passes, column in spec.cells:
            raw = cells[i]
            if raw:
                value = seen.get(raw, MISSING)
                if value is not MISSING:
                    values[attname] = value
                    continue
            elif blank_passes:
                continue
            try:
                value, checked = column.parse(raw)
            except ValidationError as exc:
                self.problem(row.number, column.name, " ".join(exc.messages))
                values[attname] = spec.initial[attname]  # as Model() left it
                continue
            values[attname] = value
            if checked:
                seen[raw] = value  # values are immutable: rows can share them
            else:
                unchecked.append(column.field)
        for f in spec.fresh:
            values[f.attname] = f.get_default()
        return _instance(spec.model, values), unchecked

    def _parse_row(self, row: _Row) -> None:
        spec = self.specs[row.record]
        cells, at = row.cells, row.at
        site = cells[at["site"]].strip() or self.default_code
        mrn = cells[at["mrn"]].strip()
        if not site:
            self.problem(row.number, "site", "Give the site code (or run with --site).")
        if not mrn:
            self.problem(row.number, "mrn", "Required.")
        row.patient_key = (site, mrn)
        for column, i in spec.required:
            if not cells[i].strip():
                self.problem(row.number, column, f"Required on a {row.record} row.")
        row.obj, row.unchecked = self._build(row, spec)
        record = row.record
        if record == "surgery" and cells[at["ypt"]].strip():
            row.pathology, row.pathology_unchecked = self._build(row, self.pathology_spec)
        elif record in STUDY_RECORDS:
            accession = cells[at["accession"]].strip()
            if accession:
                row.study_key = ("acc", accession)
            else:
                row.study_key = ("date", cells[at["study_date"]].strip(),
                                 cells[at["modality"]].strip())
                if record != "study" and not all(row.study_key[1:]):
                    self.problem(row.number, "accession",
                                 "Name the finding's study: accession, or study_date and modality.")
            if record == "calcification":
                values = row.obj.__dict__
                if values["count"] is not None and not values["count_bin"]:
                    values["count_bin"] = count_bin_for(int(values["count"]))  # a valid bin
                    row.unchecked = [f for f in row.unchecked if f.name != "count_bin"]
        if spec.range_checked:
            self._range_checks(row)

    def _range_checks(self, row: _Row) -> None:
        for obj, spec in ((row.obj, self.specs[row.record]), (row.pathology, self.pathology_spec)):
            if obj is None:
                continue
            values = obj.__dict__
            for column in spec.percent:
                value = values[column]
                if value is not None and not 0 <= value <= 100:
                    self.problem(row.number, column, "A percentage is between 0 and 100.")
            for column in spec.non_negative:
                value = values[column]
                if value is not None and value < 0:
                    self.problem(row.number, column, "Cannot be negative.")
        if row.record == "patient":
            dob = row.obj.date_of_birth
            if isinstance(dob, date) and dob < date(1900, 1, 1):
                self.problem(row.number, "date_of_birth", "Date of birth before 1900.")
        elif row.record == "study":
            # Drafts unless a named radiologist attests the report (`signed_by`, checked in
            # _attest): an import never signs on anyone's behalf.
            attested = row.get("signed_by").strip()
            status = row.get("study_status").strip() or (StudyStatus.FINAL if attested
                                                          else StudyStatus.DRAFT)
            if status not in STUDY_STATUSES:
                self.problem(row.number, "study_status",
                             f"'{status}' is not allowed. Allowed: {', '.join(STUDY_STATUSES)}.")
            row.obj.status = status

    # -- 2. check against each other and the database -----------------------------------------
    def _full_clean(self, row: _Row, obj: models.Model, unchecked: Iterable[models.Field]) -> None:
        """`obj.full_clean()` without uniqueness and constraints, as the import always ran it,
        less the fields whose cells the column parsers already found valid.

        Left out as before: the relations the import sets itself (patient, study, signer),
        and the uuid. Not run again: the patient's site's existence query (the site was
        just read by its code).
        """
        errors: dict[str, list] = {}
        for f in unchecked:  # Model.clean_fields, for these fields only
            value = obj.__dict__[f.attname]
            if f.blank and value in f.empty_values:
                continue
            try:
                obj.__dict__[f.attname] = f.clean(value, obj)
            except ValidationError as exc:
                errors[f.name] = exc.error_list
        try:
            obj.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not errors:
            return
        for key, messages in ValidationError(errors).message_dict.items():
            column = "(row)" if key == "__all__" else key
            if (row.number, column) not in self.unparsed:  # reported once is enough
                self.problem(row.number, column, " ".join(messages))

    def resolve(self) -> None:
        """Link rows to patients and studies, skip what exists, validate each object."""
        self.unparsed = {(p.row, p.column) for p in self.report.problems}
        sites = {s.code: s for s in Site.objects.filter(
            code__in={r.patient_key[0] for r in self.rows})}
        if self.allowed_sites is not None:
            for row in self.rows:
                code = row.patient_key[0]
                if code in sites and code not in self.allowed_sites:
                    self.problem(row.number, "site", f"You are not a member of site '{code}'.")
            sites = {k: v for k, v in sites.items() if k in self.allowed_sites}
        existing = self._existing_patients(sites)
        in_file: dict[tuple[str, str], _Row] = {}
        for row in (r for r in self.rows if r.record == "patient"):
            if row.patient_key in in_file:
                self.problem(row.number, "mrn", f"Patient listed twice (first on row "
                                                f"{in_file[row.patient_key].number}).")
                continue
            in_file[row.patient_key] = row
            site = sites.get(row.patient_key[0])
            if site is None:
                if row.patient_key[0]:
                    self.problem(row.number, "site", f"No site with code '{row.patient_key[0]}'.")
                continue
            row.obj.site = site
            row.obj.mrn = row.patient_key[1]
            self._full_clean(row, row.obj, [*row.unchecked, _column(Patient, "mrn").field])

        self.patients: dict[tuple[str, str], Patient] = {}
        for key, row in in_file.items():
            if key in existing:
                self.patients[key] = existing[key]
                self.report.present["patient"] += 1
            else:
                self.patients[key] = row.obj
                self.report.created["patient"] += 1
        self.new_patients = [p for p in self.patients.values() if p.pk is None]
        for key, patient in existing.items():
            self.patients.setdefault(key, patient)
        self._resolve_children()

    def _existing_patients(self, sites: dict[str, Site]) -> dict[tuple[str, str], Patient]:
        by_site: dict[str, set[str]] = defaultdict(set)
        for row in self.rows:
            if row.patient_key[0] in sites:
                by_site[row.patient_key[0]].add(row.patient_key[1])
        found = {}
        for code, mrns in by_site.items():
            mrn_list = sorted(mrns)
            for i in range(0, len(mrn_list), 1000):
                for p in Patient.objects.filter(site=sites[code], mrn__in=mrn_list[i:i + 1000]):
                    p.site = sites[code]
                    found[(code, p.mrn)] = p
        return found

    def _existing_keys(self) -> dict[str, set]:
        ids = [p.pk for p in self.patients.values() if p.pk]
        keys: dict[str, set] = defaultdict(set)
        for i in range(0, len(ids), 1000):
            chunk = ids[i:i + 1000]
            keys["tumour"].update(TumourProfile.objects.filter(patient_id__in=chunk)
                                  .values_list("patient_id", flat=True))
            keys["nac"].update(NacCourse.objects.filter(patient_id__in=chunk)
                               .values_list("patient_id", "regimen", "start_date"))
            keys["radiotherapy"].update(Radiotherapy.objects.filter(patient_id__in=chunk)
                                        .values_list("patient_id", "start_date"))
            keys["surgery"].update(Surgery.objects.filter(patient_id__in=chunk)
                                   .values_list("patient_id", "date", "procedure"))
            for pid, acc, day, modality in ImagingStudy.objects.filter(
                    patient_id__in=chunk).values_list("patient_id", "accession", "study_date",
                                                      "modality"):
                if acc:
                    keys["study"].add((pid, ("acc", acc)))
                keys["study"].add((pid, ("date", day.isoformat(), modality)))
        return keys

    @staticmethod
    def _child_key(row: _Row) -> tuple:
        """What identifies a treatment or study row within its patient."""
        o = row.obj
        if row.record == "tumour":
            return ()
        if row.record == "nac":
            return (o.regimen, o.start_date)
        if row.record == "radiotherapy":
            return (o.start_date,)
        if row.record == "surgery":
            return (o.date, o.procedure)
        return (row.study_key,)

    def _resolve_children(self) -> None:
        existing = self._existing_keys()
        seen: dict[tuple, int] = {}
        self.studies: dict[tuple, _Row] = {}
        present_studies: set[tuple] = set()
        self.new_children: dict[str, list[_Row]] = defaultdict(list)
        children = [r for r in self.rows if r.record != "patient"]
        for row in self._bar(children, "Checking") if self.progress else children:
            patient = self.patients.get(row.patient_key)
            if patient is None:
                if all(row.patient_key):
                    self.problem(row.number, "mrn", "No patient row for this site and MRN in "
                                                    "the file, and no such patient in the tracker.")
                if row.record not in FINDING_RECORDS:
                    self._clean_row(row)  # still report the row's own problems
                continue
            if row.record in FINDING_RECORDS:
                self._resolve_finding(row, present_studies)
                continue
            _relate(row.obj, "patient", patient)
            child_key = self._child_key(row)
            key = (row.record, row.patient_key, *child_key)
            if key in seen:
                self.problem(row.number, "record", f"Same {row.record} as row {seen[key]}.")
                continue
            seen[key] = row.number
            pk = patient.pk
            exists = pk is not None and (
                pk in existing["tumour"] if row.record == "tumour"
                else (pk, *child_key) in existing[row.record])
            if exists:
                self.report.present[row.record] += 1
                if row.record == "study":
                    present_studies.add((row.patient_key, row.study_key))
                continue
            self._clean_row(row)
            if row.record == "study":
                self.studies[(row.patient_key, row.study_key)] = row
                row.calcs, row.enhs = [], []
            self.new_children[row.record].append(row)
            self.report.created[row.record] += 1
        for study_row in self.studies.values():
            self._study_rules(study_row)
        self._record_rules()

    def _stored_dates(self, ids: list[int]) -> dict[int, dict[str, list]]:
        """The dates of the tracker's records of these patients, by patient id."""
        stored: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for i in range(0, len(ids), 1000):
            chunk = ids[i:i + 1000]
            for pid, day in TumourProfile.objects.filter(patient_id__in=chunk).values_list(
                    "patient_id", "diagnosis_date"):
                stored[pid]["tumour"].append((None, day))
            for record, model in (("nac", NacCourse), ("radiotherapy", Radiotherapy)):
                for pid, start, end in model.objects.filter(patient_id__in=chunk).values_list(
                        "patient_id", "start_date", "end_date"):
                    stored[pid][record].append((None, Span(start, end)))
            for pid, day in Surgery.objects.filter(patient_id__in=chunk).values_list(
                    "patient_id", "date"):
                stored[pid]["surgery"].append((None, day))
        return stored

    def _record_rules(self) -> None:
        """`patients.rules` over each patient's rows and stored records together: a
        problem on the row (and column) whose value breaks the rule, once."""
        by_patient: dict[tuple[str, str], list[_Row]] = defaultdict(list)
        for record in DATED_RECORDS:
            for row in self.new_children[record]:
                by_patient[row.patient_key].append(row)
        if not by_patient:
            return
        stored = self._stored_dates([p.pk for k in by_patient if (p := self.patients[k]).pk])
        reported = {(p.row, p.column) for p in self.report.problems}
        today = date.today()
        for key, rows in by_patient.items():
            patient = self.patients[key]
            dated = {record: list(stored[patient.pk][record]) if patient.pk else []
                     for record in DATED_RECORDS}
            for row in rows:
                o = row.obj
                value = {"tumour": o.diagnosis_date if row.record == "tumour" else None,
                         "surgery": o.date if row.record == "surgery" else None}.get(row.record)
                dated[row.record].append(
                    (row, value if row.record in ("tumour", "surgery")
                     else Span(o.start_date, o.end_date)))
            birth = patient.date_of_birth
            for row in rows:
                for column, messages in _row_errors(row, birth, dated, today).items():
                    if (row.number, column) not in reported:
                        reported.add((row.number, column))
                        self.problem(row.number, column, " ".join(messages))

    def _clean_row(self, row: _Row) -> None:
        if row.record in DATED_RECORDS:
            row.obj.patient_dates_given = ON_ITS_OWN
        if row.record == "study":
            # The signer is attached when writing; validate the rest as a draft.
            status, row.obj.status = row.obj.status, StudyStatus.DRAFT
            self._full_clean(row, row.obj, row.unchecked)
            row.obj.status = status
        else:
            self._full_clean(row, row.obj, row.unchecked)
        if row.pathology is not None:
            self._full_clean(row, row.pathology, row.pathology_unchecked)

    def _resolve_finding(self, row: _Row, present: set) -> None:
        ref = (row.patient_key, row.study_key)
        if ref in present:
            self.report.present[row.record] += 1  # its study is already in the tracker
            return
        study_row = self.studies.get(ref)
        if study_row is None:
            self.problem(row.number, "accession" if row.study_key[0] == "acc" else "study_date",
                         "No study row above for this finding (match it by accession, or by "
                         "study_date and modality).")
            return
        self._full_clean(row, row.obj, row.unchecked)  # its study_id is set when written
        (study_row.calcs if row.record == "calcification" else study_row.enhs).append(row)
        self.report.created[row.record] += 1

    def _attest(self, study_row: _Row) -> None:
        """A final study names the radiologist who attests it: an active radiologist of
        the patient's site, recorded as its signer."""
        study_row.signer_id = None
        username = study_row.get("signed_by").strip()
        if not username:
            self.problem(study_row.number, "signed_by",
                         "A final study needs the username of the radiologist who attests it; "
                         "leave study_status blank to import it as a draft.")
            return
        if self.radiologists is None:
            self.radiologists = defaultdict(set)
            for name, user_id, site_id in get_user_model().objects.filter(
                    is_active=True, groups__name=RADIOLOGIST).values_list("username", "id", "sites"):
                self.radiologists[name].add((user_id, site_id))
        found = self.radiologists.get(username)
        if not found:
            self.problem(study_row.number, "signed_by", f"'{username}' is not an active radiologist.")
            return
        site_id = study_row.obj.patient.site_id
        signer = next((user_id for user_id, site in found if site == site_id), None)
        if signer is None:
            self.problem(study_row.number, "signed_by",
                         f"'{username}' is not a radiologist of this patient's site.")
        study_row.signer_id = signer

    def _study_rules(self, study_row: _Row) -> None:
        """The rules of imaging.services._validate, reported on the offending row."""
        study = study_row.obj
        if study.status == StudyStatus.FINAL:
            self._attest(study_row)
        dob = study.patient.date_of_birth
        if study.study_date and isinstance(dob, date) and study.study_date < dob:
            self.problem(study_row.number, "study_date",
                         "Study date cannot be before the patient's date of birth.")
        if study_row.calcs and study.modality != Modality.MG:
            self.problem(study_row.calcs[0].number, "record",
                         "Calcification findings belong on mammograms (MG).")
        if study_row.enhs and study.modality != Modality.MR:
            self.problem(study_row.enhs[0].number, "record",
                         "Enhancement findings belong on MRI studies (MR).")
        if study_row.enhs and study.no_enhancement:
            self.problem(study_row.enhs[0].number, "record",
                         "The study is marked no_enhancement but has enhancement rows.")
        for rows, label in ((study_row.calcs, "group"), (study_row.enhs, "lesion")):
            seen: dict[tuple, int] = {}
            for r in rows:
                ident = (r.obj.laterality, getattr(r.obj, label))
                if ident in seen:
                    self.problem(r.number, label, f"Listed twice for this study (row {seen[ident]}).")
                seen[ident] = r.number
                if study.laterality in ("left", "right") and r.obj.laterality not in (
                        "", study.laterality):
                    self.problem(r.number, "laterality",
                                 f"A {r.obj.laterality} finding on a {study.laterality} study.")

    # -- 3. write -------------------------------------------------------------------------------
    def write(self) -> None:
        now = timezone.now()
        created_by_id = self.user.pk if self.user is not None else None
        children = self.new_children
        with self._bar(None, "Writing", total=self._object_count()) as bar:
            writer.assign_ids(Patient, self.new_patients)
            writer.insert(Patient, self.new_patients, now=now, with_id=True)
            bar.update(len(self.new_patients))
            for row in children["tumour"]:
                t = row.obj
                t.subtype = derive_subtype(t.er_percent, t.pr_percent, t.her2_ihc, t.her2_ish)
            surgeries = [self._linked(r) for r in children["surgery"]]
            writer.assign_ids(Surgery, surgeries)
            simple = (("tumour", TumourProfile), ("nac", NacCourse),
                      ("radiotherapy", Radiotherapy))
            for record, model in simple:
                objs = [self._linked(r) for r in children[record]]
                writer.insert(model, objs, now=now)
                bar.update(len(objs))
            writer.insert(Surgery, surgeries, now=now, with_id=True)
            bar.update(len(surgeries))
            pathologies = []
            for row in children["surgery"]:
                if row.pathology is not None:
                    p = row.pathology
                    p.__dict__["surgery_id"] = row.obj.pk
                    p.pcr = bool(is_pcr(p.ypt, p.ypn, p.pcr_definition))
                    pathologies.append(p)
            writer.insert(Pathology, pathologies, now=now)
            studies = []
            for row in children["study"]:
                s = self._linked(row)
                values = s.__dict__
                values["created_by_id"] = created_by_id
                if s.status == StudyStatus.FINAL:
                    values["signed_by_id"], values["signed_at"] = row.signer_id, now
                studies.append(s)
            writer.assign_ids(ImagingStudy, studies)
            writer.insert(ImagingStudy, studies, now=now, with_id=True)
            bar.update(len(studies))
            for attr, model in (("calcs", CalcificationFinding), ("enhs", EnhancementFinding)):
                objs = []
                for row in children["study"]:
                    for finding_row in getattr(row, attr):
                        finding_row.obj.__dict__["study_id"] = row.obj.pk
                        objs.append(finding_row.obj)
                writer.insert(model, objs, now=now)
                bar.update(len(objs))
            anchored = {r.obj.patient_id for key in ("tumour", "surgery", "radiotherapy")
                        for r in children[key]}
            self._outbox(studies, anchored, now)

    def _linked(self, row: _Row) -> models.Model:
        # New patients got their ids after the children were built.
        row.obj.__dict__["patient_id"] = self.patients[row.patient_key].pk
        return row.obj

    def _object_count(self) -> int:
        return len(self.new_patients) + sum(self.report.created[k] for k in RECORDS
                                            if k != "patient")

    @staticmethod
    def _outbox(studies: list[ImagingStudy], anchored: set[int], now) -> None:
        """One evaluation per patient, for its latest newly imported final study; one plan
        rebuild per patient given a tumour, surgery or radiotherapy row. The outbox sweep
        processes them (they are not queued one by one)."""
        latest: dict[int, ImagingStudy] = {}
        for s in studies:
            if s.status == StudyStatus.FINAL:
                best = latest.get(s.patient_id)
                if best is None or s.study_date >= best.study_date:
                    latest[s.patient_id] = s
        kind = Event.Kind.STUDY_FINALIZED
        events = [{"patient_id": pid, "object_id": s.pk, "kind": kind} for pid, s in latest.items()]
        events += [{"patient_id": pid, "object_id": None, "kind": Event.Kind.ANCHORS_CHANGED}
                   for pid in sorted(anchored)]
        writer.insert(Event, [_instance(Event, {**_defaults(Event), **values}) for values in events],
                      now=now)


def _valid(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) else None


def _row_errors(row: _Row, birth: Any, dated: dict[str, list], today: date) -> rules.Errors:
    """The rule errors of one row against the patient's other rows (`dated`: record →
    [(row or None when stored, date or Span)])."""
    def others(record: str) -> list:
        return [value for r, value in dated[record] if r is not row]

    diagnoses = [d for d in others("tumour") if isinstance(d, date)]
    dates = PatientDates(
        birth=_valid(birth, date), diagnosis=diagnoses[0] if diagnoses else None,
        nac=tuple(Span(_valid(s.start, date), _valid(s.end, date)) for s in others("nac")),
        surgeries=tuple(d for d in others("surgery") if isinstance(d, date)),
        radiotherapy=tuple(Span(_valid(s.start, date), _valid(s.end, date))
                           for s in others("radiotherapy")))
    o = row.obj
    if row.record == "tumour":
        return rules.tumour_errors(_valid(o.diagnosis_date, date),
                                   _valid(o.diagnosis_mammogram_date, date), dates, today=today)
    if row.record == "surgery":
        return rules.surgery_errors(_valid(o.date, date), dates, today=today)
    span = Span(_valid(o.start_date, date), _valid(o.end_date, date))
    check = rules.nac_errors if row.record == "nac" else rules.radiotherapy_errors
    return check(span, dates, today=today)


def import_registry(text: str, *, dry_run: bool = False, default_site: Site | None = None,
                    user: AbstractBaseUser | None = None, progress: bool = False,
                    allowed_sites: set[str] | None = None,
                    source: str = "command") -> ImportReport:
    """Validate the whole file; write it (all or nothing) unless there is a problem or a dry run.

    `allowed_sites` (site codes) limits an upload to the uploader's sites; the command,
    run by the operator, has no limit. A written import leaves one audit event with its
    counts (`source`: "command" or "upload"), never patient details.
    """
    job = RegistryImport(default_site=default_site, user=user, progress=progress,
                         allowed_sites=allowed_sites)
    job.report.dry_run = dry_run
    with _no_cyclic_gc():
        job.parse(text)
        job.resolve()
        job.report.problems.sort(key=lambda p: (p.row, p.column))
        if job.report.problems:
            return job.report
        with transaction.atomic():
            job.write()
            if dry_run:
                transaction.set_rollback(True)
            else:
                job.report.written = True
                _audit(job, user=user, source=source, default_site=default_site)
    return job.report


@contextmanager
def _no_cyclic_gc():
    """The cyclic garbage collector paused while the import runs.

    An import allocates ~100 objects per row (cells, row, instance, values), none of them
    in reference cycles, so reference counting frees them all; but the collector would
    scan the growing heap again and again (a third of the parse's time). Restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _audit(job: "RegistryImport", *, user: AbstractBaseUser | None, source: str,
           default_site: Site | None) -> None:
    """One event with the import's counts, and one per patient it wrote to, naming the
    patient (by id and UUID) and what was added to her record."""
    report = job.report
    actor_username = "" if user is not None else "import_registry (command)"
    audit_record(action=Action.IMPORT, actor=user, actor_username=actor_username,
                 changes={"source": source, "rows": report.rows,
                          "default_site": default_site.code if default_site else None,
                          "created": {r: report.created[r] for r in RECORDS},
                          "present": {r: report.present[r] for r in RECORDS}})
    added: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for patient in job.new_patients:
        added[(patient.site.code, patient.mrn)]["patient"] += 1
    for record, rows in job.new_children.items():
        for row in rows:
            added[row.patient_key][record] += 1
            for finding in (*getattr(row, "calcs", ()), *getattr(row, "enhs", ())):
                added[row.patient_key][finding.record] += 1
    audit_record_many([
        audit_event(action=Action.IMPORT, obj=job.patients[key], actor=user,
                    actor_username=actor_username,
                    changes={"source": source, "created": dict(sorted(counts.items()))})
        for key, counts in sorted(added.items())])


def decode_upload(raw: bytes) -> str:
    """CSV bytes as text (UTF-8, with or without BOM); ValueError otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from exc
    if "\x00" in text:  # no text column can store it (PostgreSQL refuses it)
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValueError(f"Line {line} holds a NUL character: this is not a CSV text file.")
    return text

