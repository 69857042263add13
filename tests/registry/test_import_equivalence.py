"""The importer writes and reports exactly what the original importer did.

The golden files (tests/registry/golden/) were written by the original importer, which
built model instances, ran `full_clean` on every row and wrote with `bulk_create`. The
fast importer must leave the same rows (compared by natural keys, see snapshot.py), the
same counts and the very same problems, row by row and column by column.
Set REGISTRY_GOLDEN_WRITE=1 to rewrite them (only ever from a trusted importer).
"""

import csv
import io
import os
from pathlib import Path

import pytest
from django.db import connection

from registry.importer import import_registry
from registry.layout import all_columns
from registry.sample import sample_registry_csv
from tests.patients.factories import SiteFactory, example_signers

from .snapshot import as_json, database_contents, golden, report_contents

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"
WRITE = os.environ.get("REGISTRY_GOLDEN_WRITE") == "1"


@pytest.fixture
def sites(db):
    made = SiteFactory(code="north", name="North Clinic"), SiteFactory(code="south", name="South")
    example_signers()
    return made


def check(name: str, actual) -> None:
    actual = as_json(actual)
    assert actual == golden(name, actual, write=WRITE)


def test_example_and_sample_files_write_the_same_rows(sites):
    reports = [import_registry(EXAMPLE.read_text()),
               import_registry(sample_registry_csv(patients=12, studies_per_patient=4)),
               import_registry(EXAMPLE.read_text())]
    assert all(r.ok and r.written for r in reports)
    check("written", {"reports": [report_contents(r) for r in reports],
                      "database": database_contents()})


def test_a_longer_file_on_top_of_an_earlier_one_adds_only_the_new_rows(sites):
    lines = EXAMPLE.read_text().splitlines(keepends=True)
    first = import_registry("".join(lines[:18]))
    sample = sample_registry_csv(patients=6, studies_per_patient=2)
    second = import_registry(sample)
    dry = import_registry(EXAMPLE.read_text(), dry_run=True)
    third = import_registry(EXAMPLE.read_text())
    fourth = import_registry(sample_registry_csv(patients=8, studies_per_patient=5))
    reports = [first, second, dry, third, fourth]
    assert all(r.ok for r in reports)
    check("top-up", {"reports": [report_contents(r) for r in reports],
                     "database": database_contents()})


# One column too many, a duplicated header column, and rows that break every rule the
# importer checks: each line is (record, {column: value}); None is a raw CSV line.
BAD_HEADER = ["given_name", *all_columns(), "colour"]
BAD_ROWS: list = [
    ("patient", {"mrn": "A1", "given_name": "A" * 120, "family_name": "One",
                 "date_of_birth": "1970-01-01", "follow_up_status": "gone",
                 "chest_radiation_before_30": "maybe", "lifetime_risk_percent": "150"}),
    ("patient", {"mrn": "A2", "given_name": "Two", "family_name": "B" * 101,
                 "date_of_birth": "1899-12-31", "pathogenic_variant": "YES"}),
    ("patient", {"mrn": "A3", "given_name": "Three", "family_name": "C",
                 "date_of_birth": "2999-01-01", "lifetime_risk_percent": "12.25",
                 "notes": "two\nlines"}),
    ("patient", {"mrn": "M" * 40, "given_name": "Long", "family_name": "MRN",
                 "date_of_birth": "1970-1-5"}),
    ("patient", {"mrn": "A1", "given_name": "Again", "family_name": "A",
                 "date_of_birth": "1970-01-01"}),
    ("patient", {"site": "", "mrn": "", "given_name": "No", "family_name": "Site",
                 "date_of_birth": "31/12/1970"}),
    ("patient", {"site": "east", "mrn": "E1", "given_name": "E", "family_name": "E",
                 "date_of_birth": "1970-01-01"}),
    ("patient", {"mrn": "A4", "given_name": "nul\x00char", "family_name": "D",
                 "date_of_birth": "19700105", "lifetime_risk_percent": "1e1",
                 "follow_up_status": "Active"}),
    ("patient", {"mrn": "A5", "given_name": "  ", "family_name": "E",
                 "date_of_birth": "1970-02-30", "lifetime_risk_percent": "NaN"}),
    ("tumour", {"mrn": "A1", "laterality": "left", "diagnosis_date": "2016/01/01",
                "histology": "IDC", "grade": "4", "er_percent": "101", "pr_percent": "-1",
                "her2_ihc": "4+", "ki67_percent": "abc", "clinical_t": "cT9",
                "comedo_necrosis": "1"}),
    ("tumour", {"mrn": "A1", "laterality": "left", "diagnosis_date": "2016-01-01",
                "histology": "IDC"}),
    ("tumour", {"mrn": "A2", "laterality": "", "diagnosis_date": "20160110", "histology": "IDC",
                "grade": "03", "er_percent": "+5", "pr_percent": " 7 ", "ki67_percent": "5_0",
                "her2_ish": "amplified", "diagnosis_mammogram_date": "2999-01-01"}),
    ("tumour", {"mrn": "REG-1001", "laterality": "sideways", "diagnosis_date": "2014-03-03",
                "histology": "IDC"}),
    ("nac", {"mrn": "A1", "regimen": "AC", "start_date": "2015-05-01", "end_date": "2015-01-01",
             "cycles": "x"}),
    ("nac", {"mrn": "A1", "regimen": "", "start_date": "", "cycles": "70000"}),
    ("nac", {"mrn": "REG-1001", "regimen": "AC", "start_date": "2014-04-01", "cycles": "zz"}),
    ("nac", {"mrn": "REG-1001", "regimen": "R" * 110, "start_date": "2014-04-02",
             "agents": "a" * 300}),
    ("radiotherapy", {"mrn": "A1", "start_date": "2015-09-01", "end_date": "2015-08-01",
                      "target": "T" * 110}),
    ("radiotherapy", {"mrn": "REG-1001", "start_date": "2014-11-10", "end_date": "2014-01-01"}),
    ("surgery", {"mrn": "A1", "date": "2015-08-01", "laterality": "middle", "procedure": "BCS",
                 "margins": "wide", "ypt": "ypT9", "ypn": "ypN0", "rcb_index": "-0.5",
                 "rcb_class": "IV", "residual_dcis": "perhaps"}),
    ("surgery", {"mrn": "A1", "date": "2015-08-02", "laterality": "left", "procedure": "BCS",
                 "ypt": "ypT0", "rcb_index": "12.345", "pcr_definition": "bad"}),
    ("surgery", {"mrn": "A1", "date": "2015-08-02", "laterality": "left", "procedure": "BCS"}),
    ("surgery", {"mrn": "NOPE", "date": "", "laterality": "left", "procedure": "lumpectomy",
                 "axilla": "all"}),
    ("study", {"mrn": "A1", "accession": "S1", "study_date": "2016-01-10", "modality": "MG",
               "birads": "7", "breast_composition": "e", "bpe": "mild",
               "study_status": "signed"}),
    ("study", {"mrn": "A1", "study_date": "2016-05-05", "modality": "MR",
               "no_enhancement": "yes", "breast_composition": "c"}),
    ("study", {"mrn": "A1", "accession": "S1", "study_date": "2016-01-11", "modality": "MG"}),
    ("study", {"mrn": "A3", "accession": "S3", "study_date": "2016-01-10", "modality": "US",
               "no_enhancement": "yes"}),
    ("study", {"mrn": "REG-1001", "accession": "ACC-1001-01", "study_date": "2014-02-20",
               "modality": "MG", "birads": "77"}),
    ("study", {"mrn": "REG-1001", "accession": "P2", "study_date": "1960-01-01", "modality": "MG"}),
    ("study", {"mrn": "REG-1001", "accession": "P3", "study_date": "2016-01-01", "modality": "MG",
               "laterality": "left", "study_status": "draft"}),
    ("study", {"mrn": "A1", "accession": "S4", "study_date": "2999-01-01", "modality": "XR",
               "phase": "later"}),
    ("study", {"mrn": "A1", "accession": "S5", "study_date": "2016-03-03", "modality": "MG",
               "laterality": "right"}),
    ("study", {"mrn": "A1", "accession": "X" * 70, "study_date": "2016-03-04", "modality": "MG"}),
    ("calcification", {"mrn": "A1", "accession": "S1", "group": "L1", "laterality": "left",
                       "morphology": "sparkly", "distribution": "grouped", "extent_mm": "-3",
                       "count": "8", "count_bin": "1-5", "clock": "13", "depth": "deep",
                       "nipple_distance_mm": "abc", "clip_present": "maybe",
                       "observed_change": "bigger"}),
    ("calcification", {"mrn": "A1", "accession": "S1", "group": "L1", "laterality": "left",
                       "morphology": "amorphous", "distribution": "grouped", "extent_mm": "4",
                       "count_bin": "1-5"}),
    ("calcification", {"mrn": "A1", "accession": "S1", "group": "L2", "laterality": "left",
                       "morphology": "amorphous", "distribution": "grouped",
                       "extent_mm": "12345.6"}),
    ("calcification", {"mrn": "A1", "accession": "S1", "group": "G" * 40, "laterality": "left",
                       "morphology": "amorphous", "distribution": "grouped", "extent_mm": "1e1",
                       "count": "25", "clock": "0", "nipple_distance_mm": "-1"}),
    ("calcification", {"mrn": "A1", "accession": "S1", "group": "L4", "laterality": "both",
                       "morphology": "amorphous", "distribution": "grouped", "extent_mm": "NaN",
                       "count": "-4", "inside_tumor_bed": ""}),
    ("calcification", {"mrn": "A1", "accession": "S1", "group": "L5", "laterality": "right",
                       "morphology": "round", "distribution": "diffuse", "extent_mm": "0010.50",
                       "count": "3", "count_bin": "6-10", "quadrant": "UOQ", "clock": "12"}),
    ("calcification", {"mrn": "A1", "accession": "S5", "group": "L1", "laterality": "left",
                       "morphology": "amorphous", "distribution": "grouped", "extent_mm": "2",
                       "count": "1"}),
    ("calcification", {"mrn": "REG-1001", "accession": "ACC-1001-01", "group": "L9",
                       "laterality": "left", "morphology": "amorphous", "distribution": "grouped",
                       "extent_mm": "abc"}),
    ("calcification", {"mrn": "REG-1001", "accession": "P3", "group": "L1", "laterality": "right",
                       "morphology": "amorphous", "distribution": "grouped", "extent_mm": "2.5",
                       "count": "30"}),
    ("calcification", {"mrn": "A1", "study_date": "2016-05-05", "modality": "MR", "group": "L1",
                       "laterality": "left", "morphology": "amorphous", "distribution": "grouped",
                       "extent_mm": "4", "count_bin": "1-5"}),
    ("calcification", {"mrn": "A1", "group": "L1", "laterality": "left", "extent_mm": "x"}),
    ("calcification", {"mrn": "A1", "accession": "NOSUCH", "group": "L1", "laterality": "left",
                       "morphology": "nope", "distribution": "grouped", "extent_mm": "4"}),
    ("calcification", {"mrn": "NOPE", "accession": "S1", "group": "L1", "laterality": "left",
                       "morphology": "amorphous", "distribution": "grouped", "extent_mm": "4",
                       "count_bin": "1-5"}),
    ("enhancement", {"mrn": "A1", "study_date": "2016-05-05", "modality": "MR", "lesion": "E1",
                     "laterality": "left", "lesion_type": "mass", "nme_distribution": "focal",
                     "size_mm": "-2", "kinetics_initial": "slow", "kinetics_delayed": "washout",
                     "mass_shape": "star"}),
    ("enhancement", {"mrn": "A1", "study_date": "2016-05-05", "modality": "MR", "lesion": "E2",
                     "laterality": "left", "lesion_type": "nme", "mass_margin": "spiculated",
                     "clock": "99999"}),
    ("enhancement", {"mrn": "A1", "accession": "S1", "lesion": "E3", "laterality": "left",
                     "lesion_type": "focus", "size_mm": "1234.56"}),
    ("scan", {"mrn": "A1"}),
    (" Patient ", {"mrn": "A6", "given_name": "Spaced", "family_name": "Record",
                   "date_of_birth": "1970-01-01", "notes": "fine"}),
    None,  # a blank line: skipped, not counted
    ("study", {"mrn": "A6", "accession": "S6", "study_date": "2017-01-01", "modality": "MR",
               "bpe": "mild", "laterality": "left"}),
    ("enhancement", {"mrn": "A6", "accession": "S6", "lesion": "E1", "laterality": "right",
                     "lesion_type": "focus"}),
    ("enhancement", {"mrn": "A6", "accession": "S6", "lesion": "E1", "laterality": "right",
                     "lesion_type": "focus"}),
]


def bad_file() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BAD_HEADER)
    for item in BAD_ROWS:
        if item is None:
            out.write("\n")
            continue
        record, values = item
        values = {"site": "north", **values}
        # The first `given_name` column is shadowed by the last one (as in a spreadsheet
        # with the column twice): it holds a value that would be a problem if read.
        row = ["G" * 200] + [values.get(c, "") for c in all_columns()] + [""]
        row[1] = record
        writer.writerow(row)
    out.write("G,study,north,A1,final,extra,cells" + "," * (len(BAD_HEADER) + 2) + "\n")
    out.write("G,patient,north,A7\n")  # fewer cells than the header: blanks
    return out.getvalue()


def test_every_problem_matches_the_original_importer(sites):
    assert import_registry("".join(EXAMPLE.read_text().splitlines(keepends=True)[:8])).ok
    before = database_contents()
    text = bad_file()
    reports = [import_registry(text), import_registry(text, dry_run=True),
               import_registry(text, default_site=sites[1], allowed_sites={"north", "east"}),
               import_registry(text.replace(",colour", ",notes_too").replace(
                   "given_name,record", "colour,record"))]
    assert not any(r.ok or r.written for r in reports)
    assert database_contents() == before
    # Integer ranges come from the database backend (cycles 70000, clock 99999).
    check(f"problems-{connection.vendor}", [report_contents(r) for r in reports])
