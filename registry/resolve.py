"""Registry import, step 2: check the rows against each other and the database.

References, duplicates and study rules; what already exists is skipped: patients by site
+ MRN, studies by accession (else date + modality), treatment by its dates. A row's
objects are validated as `Model.full_clean` would, minus the cells the column parsers
already vouched for.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models

from core.roles import RADIOLOGIST
from imaging.models import ImagingStudy
from imaging.phase import phase_error, signing_error
from imaging.vocabulary import Modality, StudyStatus
from patients import rules
from patients.models import NacCourse, Patient, Radiotherapy, Site, Surgery, TumourProfile
from patients.rules import PatientDates, Span

from .parse import FINDING_RECORDS, Row, model_column

# Records whose dates `patients.rules` checks against the patient's other records.
DATED_RECORDS = ("tumour", "nac", "radiotherapy", "surgery")
# Rows are first checked on their own (`_full_clean`), against no other record; the
# patient's rows are then checked together (`_record_rules`).
ON_ITS_OWN = PatientDates()


class Resolver:
    """Step 2 of `importer.RegistryImport`."""

    def _full_clean(self, row: Row, obj: models.Model, unchecked: Iterable[models.Field]) -> None:
        """`obj.full_clean()` without uniqueness and constraints, as the import always ran it,
        less the fields whose cells the column parsers already found valid.

        Left out as before: the relations the import sets itself (patient, study, signer),
        and the uuid. Not run again: the patient's site's existence query (the site was
        just read by its code).
        """
        errors: dict[str, list] = {}
        for f in unchecked:  # Model.clean_fields, for these fields only
            value = getattr(obj, f.attname)
            if f.blank and value in f.empty_values:
                continue
            try:
                setattr(obj, f.attname, f.clean(value, obj))
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
        in_file: dict[tuple[str, str], Row] = {}
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
            self._full_clean(row, row.obj, [*row.unchecked, model_column(Patient, "mrn").field])

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
    def _child_key(row: Row) -> tuple:
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
        self.studies: dict[tuple, Row] = {}
        present_studies: set[tuple] = set()
        self.new_children: dict[str, list[Row]] = defaultdict(list)
        children = [r for r in self.rows if r.record != "patient"]
        for row in self._bar(children, "Checking"):
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
            row.obj.patient = patient
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
        first_surgery = self._first_surgeries(existing["surgery"])
        for study_row in self.studies.values():
            self._study_rules(study_row, first_surgery.get(study_row.patient_key))
        self._record_rules()

    def _first_surgeries(self, existing: set) -> dict[tuple[str, str], date]:
        """The first surgery date of each patient, in the tracker or in this file."""
        by_pk: dict[int, date] = {}
        for pid, day, _procedure in existing:
            by_pk[pid] = min(day, by_pk.get(pid, day))
        first: dict[tuple[str, str], date] = {}
        for key, patient in self.patients.items():
            if patient.pk in by_pk:
                first[key] = by_pk[patient.pk]
        for row in self.new_children["surgery"]:
            day = row.obj.date
            if isinstance(day, date):
                first[row.patient_key] = min(day, first.get(row.patient_key, day))
        return first

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
        by_patient: dict[tuple[str, str], list[Row]] = defaultdict(list)
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

    def _clean_row(self, row: Row) -> None:
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

    def _resolve_finding(self, row: Row, present: set) -> None:
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

    def _attest(self, study_row: Row) -> None:
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

    def _study_rules(self, study_row: Row, surgery_date: date | None) -> None:
        """The rules of imaging.services._validate, reported on the offending row."""
        study = study_row.obj
        if study.status == StudyStatus.FINAL:
            self._attest(study_row)
            if message := signing_error(modality=study.modality, lesions=len(study_row.enhs),
                                        no_enhancement=study.no_enhancement):
                self.problem(study_row.number, "no_enhancement", message)
        if isinstance(study.study_date, date) and (message := phase_error(
                phase=study.phase, study_date=study.study_date, surgery_date=surgery_date)):
            self.problem(study_row.number, "phase", message)
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


def _valid(value: Any, kind: type) -> Any:
    return value if isinstance(value, kind) else None


def _row_errors(row: Row, birth: Any, dated: dict[str, list], today: date) -> rules.Errors:
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
