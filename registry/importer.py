"""Import historical patients, treatment, studies and findings from a registry CSV.

1. Parse every row into unsaved model objects, collecting every problem with its row
   number and column (nothing stops at the first problem).
2. Check the rows against each other and against the database (references, duplicates,
   study rules), skipping what already exists: patients by site + MRN, studies by
   accession (else date + modality), treatment by its dates.
3. Only when there is no problem: write everything with bulk inserts in one
   transaction (rolled back again for a dry run). A re-run of the same file finds
   everything present and writes nothing.
"""

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from tqdm import tqdm

from alerts.models import Outbox
from audit.models import Action
from audit.services import audit_record
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from imaging.vocabulary import Modality, StudyStatus, count_bin_for
from patients.models import NacCourse, Pathology, Patient, Radiotherapy, Site, Surgery, TumourProfile
from patients.vocabulary import derive_subtype, is_pcr

from .layout import (
    KEY_COLUMNS,
    NON_NEGATIVE_COLUMNS,
    PATHOLOGY,
    PERCENT_COLUMNS,
    RECORDS,
    all_columns,
)

IMPORT_USERNAME = "registry-import"
TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}
BATCH = 2000


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

    def __init__(self, number: int, record: str, values: dict[str, str]):
        self.number = number
        self.record = record
        self.values = values
        self.obj: Any = None
        self.pathology: Pathology | None = None
        self.patient_key: tuple[str, str] = ("", "")
        self.study_key: tuple = ()


def _parse_value(model_field: models.Field, raw: str) -> Any:
    raw = raw.strip()
    if raw == "":
        if model_field.has_default():
            return model_field.get_default()
        return None if model_field.null else ""
    if isinstance(model_field, models.BooleanField):
        low = raw.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ValidationError("Write yes or no (or true/false, 1/0).")
    value = model_field.to_python(raw)
    if model_field.choices and value not in {c[0] for c in model_field.flatchoices}:
        allowed = ", ".join(str(c[0]) for c in model_field.flatchoices)
        raise ValidationError(f"'{raw}' is not allowed. Allowed values: {allowed}.")
    return value


class RegistryImport:
    def __init__(self, *, default_site: Site | None = None, user: AbstractBaseUser | None = None,
                 progress: bool = False, allowed_sites: set[str] | None = None):
        self.default_site = default_site
        self.allowed_sites = allowed_sites
        self.user = user
        self.progress = progress
        self.report = ImportReport()
        self.rows: list[_Row] = []

    # -- 1. parse ---------------------------------------------------------------------------
    def problem(self, row: int, column: str, message: str) -> None:
        self.report.problems.append(Problem(row, column, message))

    def _bar(self, items: Iterable, desc: str, total: int | None = None):
        return tqdm(items, desc=desc, total=total, disable=not self.progress, unit="row",
                    leave=False)

    def parse(self, text: str) -> None:
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        if "record" not in header:
            self.problem(1, "record", "The header must have a 'record' column "
                                      "(see docs/registry-csv.md).")
            return
        known = set(all_columns())
        for column in header:
            if column not in known:
                self.problem(1, column or "(blank)", "Unknown column.")
        for number, values in enumerate(self._bar(reader, "Reading"), start=2):
            self.report.rows += 1
            if None in values:
                self.problem(number, "(row)", "More cells than header columns.")
                continue
            values = {k: (v or "") for k, v in values.items()}
            record = values.get("record", "").strip().lower()
            if record not in RECORDS:
                self.problem(number, "record",
                             f"'{record}' is not a record type. Allowed: {', '.join(RECORDS)}.")
                continue
            row = _Row(number, record, values)
            self._parse_row(row)
            self.rows.append(row)

    def _build(self, row: _Row, model: type[models.Model], columns: tuple[str, ...]):
        obj = model()
        for column in columns:
            model_field = model._meta.get_field(column)
            try:
                setattr(obj, model_field.attname, _parse_value(model_field,
                                                               row.values.get(column, "")))
            except ValidationError as exc:
                self.problem(row.number, column, " ".join(exc.messages))
        return obj

    def _parse_row(self, row: _Row) -> None:
        model, columns, required = RECORDS[row.record]
        site = row.values.get("site", "").strip() or (self.default_site.code
                                                      if self.default_site else "")
        mrn = row.values.get("mrn", "").strip()
        if not site:
            self.problem(row.number, "site", "Give the site code (or run with --site).")
        if not mrn:
            self.problem(row.number, "mrn", "Required.")
        row.patient_key = (site, mrn)
        for column in required:
            if not row.values.get(column, "").strip():
                self.problem(row.number, column, f"Required on a {row.record} row.")
        row.obj = self._build(row, model, columns)
        if row.record == "surgery" and row.values.get("ypt", "").strip():
            row.pathology = self._build(row, *PATHOLOGY)
        if row.record in ("study", "calcification", "enhancement"):
            accession = row.values.get("accession", "").strip()
            if accession:
                row.study_key = ("acc", accession)
            else:
                row.study_key = ("date", row.values.get("study_date", "").strip(),
                                 row.values.get("modality", "").strip())
                if row.record != "study" and not all(row.study_key[1:]):
                    self.problem(row.number, "accession",
                                 "Name the finding's study: accession, or study_date and modality.")
        if row.record == "calcification" and row.obj.count is not None and not row.obj.count_bin:
            row.obj.count_bin = count_bin_for(int(row.obj.count))
        self._range_checks(row)

    def _range_checks(self, row: _Row) -> None:
        for obj in (row.obj, row.pathology):
            if obj is None:
                continue
            for column in PERCENT_COLUMNS:
                value = getattr(obj, column, None)
                if value is not None and not 0 <= value <= 100:
                    self.problem(row.number, column, "A percentage is between 0 and 100.")
            for column in NON_NEGATIVE_COLUMNS:
                value = getattr(obj, column, None)
                if value is not None and value < 0:
                    self.problem(row.number, column, "Cannot be negative.")
        dob = getattr(row.obj, "date_of_birth", None)
        if isinstance(dob, date) and dob < date(1900, 1, 1):
            self.problem(row.number, "date_of_birth", "Date of birth before 1900.")
        if isinstance(row.obj, ImagingStudy):
            status = row.values.get("study_status", "").strip() or StudyStatus.FINAL
            if status not in StudyStatus.values:
                self.problem(row.number, "study_status",
                             f"'{status}' is not allowed. Allowed: {', '.join(StudyStatus.values)}.")
            row.obj.status = status

    # -- 2. check against each other and the database -----------------------------------------
    def _full_clean(self, row: _Row, obj, exclude: list[str]) -> None:
        try:
            obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
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
            self._full_clean(row, row.obj, exclude=["uuid"])

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
        for row in self._bar([r for r in self.rows if r.record != "patient"], "Checking"):
            patient = self.patients.get(row.patient_key)
            if patient is None:
                if all(row.patient_key):
                    self.problem(row.number, "mrn", "No patient row for this site and MRN in "
                                                    "the file, and no such patient in the tracker.")
                if row.record not in ("calcification", "enhancement"):
                    self._clean_row(row)  # still report the row's own problems
                continue
            row.obj.patient = patient
            if row.record in ("calcification", "enhancement"):
                self._resolve_finding(row, patient, present_studies)
                continue
            child_key = self._child_key(row)
            key = (row.record, row.patient_key, *child_key)
            if key in seen:
                self.problem(row.number, "record", f"Same {row.record} as row {seen[key]}.")
                continue
            seen[key] = row.number
            exists = patient.pk is not None and (
                patient.pk in existing["tumour"] if row.record == "tumour"
                else (patient.pk, *child_key) in existing[row.record])
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

    def _clean_row(self, row: _Row) -> None:
        if row.record == "study":
            # The signer is attached when writing; validate the rest as a draft.
            status, row.obj.status = row.obj.status, StudyStatus.DRAFT
            self._full_clean(row, row.obj, exclude=["patient", "signed_by", "created_by"])
            row.obj.status = status
        else:
            self._full_clean(row, row.obj, exclude=["patient"])
        if row.pathology is not None:
            self._full_clean(row, row.pathology, exclude=["surgery"])

    def _resolve_finding(self, row: _Row, patient: Patient, present: set) -> None:
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
        row.obj.study = study_row.obj
        self._full_clean(row, row.obj, exclude=["study"])
        (study_row.calcs if row.record == "calcification" else study_row.enhs).append(row)
        self.report.created[row.record] += 1

    def _study_rules(self, study_row: _Row) -> None:
        """The rules of imaging.services._validate, reported on the offending row."""
        study = study_row.obj
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
        signer = _import_user()
        with self._bar(None, "Writing", total=self._object_count()) as bar:
            Patient.objects.bulk_create(self.new_patients, batch_size=BATCH)
            bar.update(len(self.new_patients))
            for row in self.new_children["tumour"]:
                t = row.obj
                t.subtype = derive_subtype(t.er_percent, t.pr_percent, t.her2_ihc, t.her2_ish)
            simple = (("tumour", TumourProfile), ("nac", NacCourse),
                      ("radiotherapy", Radiotherapy), ("surgery", Surgery))
            for record, model in simple:
                objs = [self._relink(r.obj) for r in self.new_children[record]]
                model.objects.bulk_create(objs, batch_size=BATCH)
                bar.update(len(objs))
            pathologies = []
            for row in self.new_children["surgery"]:
                if row.pathology is not None:
                    p = row.pathology
                    p.surgery = row.obj
                    p.pcr = bool(is_pcr(p.ypt, p.ypn, p.pcr_definition))
                    pathologies.append(p)
            Pathology.objects.bulk_create(pathologies, batch_size=BATCH)
            studies = []
            for row in self.new_children["study"]:
                s = self._relink(row.obj)
                s.created_by = self.user
                if s.status == StudyStatus.FINAL:
                    s.signed_by, s.signed_at = signer, now
                studies.append(s)
            ImagingStudy.objects.bulk_create(studies, batch_size=BATCH)
            bar.update(len(studies))
            for attr, model in (("calcs", CalcificationFinding), ("enhs", EnhancementFinding)):
                objs = []
                for row in self.new_children["study"]:
                    for finding_row in getattr(row, attr):
                        finding_row.obj.study = row.obj
                        objs.append(finding_row.obj)
                model.objects.bulk_create(objs, batch_size=BATCH)
                bar.update(len(objs))
            self._outbox(studies)

    @staticmethod
    def _relink(obj):
        # bulk_create gave the new patients their ids after the children were built.
        obj.patient = obj.patient
        return obj

    def _object_count(self) -> int:
        return len(self.new_patients) + sum(self.report.created[k] for k in RECORDS
                                            if k != "patient")

    @staticmethod
    def _outbox(studies: list[ImagingStudy]) -> None:
        """One evaluation per patient, for its latest newly imported final study."""
        latest: dict[int, ImagingStudy] = {}
        for s in studies:
            if s.status == StudyStatus.FINAL:
                best = latest.get(s.patient_id)
                if best is None or s.study_date >= best.study_date:
                    latest[s.patient_id] = s
        Outbox.objects.bulk_create(
            [Outbox(patient_id=pid, study_id=s.id, kind=Outbox.Kind.STUDY_FINALIZED)
             for pid, s in latest.items()], batch_size=BATCH)


def _import_user() -> AbstractBaseUser:
    """The account recorded as signer of imported final studies (it cannot log in)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=IMPORT_USERNAME, defaults={"is_active": False, "first_name": "Registry",
                                            "last_name": "import"})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


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
            _audit(job.report, user=user, source=source, default_site=default_site)
    return job.report


def _audit(report: ImportReport, *, user: AbstractBaseUser | None, source: str,
           default_site: Site | None) -> None:
    audit_record(action=Action.IMPORT, actor=user,
                 actor_username="" if user is not None else "import_registry (command)",
                 changes={"source": source, "rows": report.rows,
                          "default_site": default_site.code if default_site else None,
                          "created": {r: report.created[r] for r in RECORDS},
                          "present": {r: report.present[r] for r in RECORDS}})


def decode_upload(raw: bytes) -> str:
    """CSV bytes as text (UTF-8, with or without BOM); ValueError otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from exc


__all__ = ["KEY_COLUMNS", "ImportReport", "Problem", "decode_upload", "import_registry"]
