"""Registry import, step 1: parse every row into unsaved model objects.

Every problem is collected with its CSV row number and column (nothing stops at the
first problem). Cells are parsed by per-column parsers compiled from the model fields
(registry/columns.py).
"""

import csv
import io
from datetime import date
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from imaging.models import ImagingStudy
from imaging.vocabulary import StudyStatus, count_bin_for
from patients.models import Pathology, Patient, Surgery

from .columns import MISSING, Column, callable_default
from .layout import (
    NON_NEGATIVE_COLUMNS,
    PATHOLOGY,
    PERCENT_COLUMNS,
    RECORDS,
    all_columns,
)

STUDY_STATUSES = StudyStatus.values
STUDY_RECORDS = ("study", "calcification", "enhancement")
FINDING_RECORDS = ("calcification", "enhancement")
BATCH_SIZE = 1000


class Row:
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


class Spec:
    """How the rows of one record type become model instances, in this import."""

    def __init__(self, model: type[models.Model], columns: tuple[str, ...],
                 required: tuple[str, ...], at: dict[str, int]):
        self.model = model
        self.initial = initial_values(model)  # what Model() holds before any cell is read
        self.fresh = [f for f in model._meta.concrete_fields if callable_default(f)]
        # `base`: the initial values with every blank cell's value in (where it passes,
        # and is the same for every row). Per column: where its cell is, the texts already
        # read in this import with their (checked) values, and whether `base` holds it.
        self.base = dict(self.initial)
        self.cells = []
        for name in columns:
            column = model_column(model, name)
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
def model_column(model: type[models.Model], name: str) -> Column:
    return Column(model._meta.get_field(name))


@cache
def initial_values(model: type[models.Model]) -> dict[str, Any]:
    """Every concrete field's initial value, as `Model()` sets it (callable defaults: None),
    in the order of `_meta.concrete_fields`: `Parser._build` passes them positionally."""
    return {f.attname: None if callable_default(f) else f.get_default()
            for f in model._meta.concrete_fields}


class Parser:
    """Step 1 of `importer.RegistryImport`."""

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
        self.specs = {record: Spec(model, columns, required, at)
                      for record, (model, columns, required) in RECORDS.items()}
        self.pathology_spec = Spec(*PATHOLOGY, (), at)
        rows = self._bar(reader, "Reading")
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
            row = Row(number, record, cells, at)
            self._parse_row(row)
            self.rows.append(row)

    def _build(self, row: Row, spec: Spec) -> tuple[models.Model, list[models.Field]]:
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
        # Positional, in concrete-field order (`values` keeps `initial_values`' order), as
        # `Model.from_db` builds instances: keywords cost an exception per foreign key
        # (the field's name is tried before its attname), ~23 → ~7 µs a study.
        return spec.model(*values.values()), unchecked

    def _parse_row(self, row: Row) -> None:
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
                calc = row.obj
                if calc.count is not None and not calc.count_bin:
                    calc.count_bin = count_bin_for(int(calc.count))  # a valid bin
                    row.unchecked = [f for f in row.unchecked if f.name != "count_bin"]
        if spec.range_checked:
            self._range_checks(row)

    def _range_checks(self, row: Row) -> None:
        for obj, spec in ((row.obj, self.specs[row.record]), (row.pathology, self.pathology_spec)):
            if obj is None:
                continue
            for column in spec.percent:
                value = getattr(obj, column)
                if value is not None and not 0 <= value <= 100:
                    self.problem(row.number, column, "A percentage is between 0 and 100.")
            for column in spec.non_negative:
                value = getattr(obj, column)
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
