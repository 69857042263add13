"""A generated registry file of any size, for measuring the import (docs/api.md)."""

import csv
import io
from datetime import date, timedelta

from .layout import all_columns


def sample_registry_csv(*, patients: int, studies_per_patient: int, site: str = "north") -> str:
    """`patients` patients with tumour, NAC, surgery, radiotherapy and yearly mammograms
    (each with two calcification groups)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=all_columns())
    writer.writeheader()
    for n in range(patients):
        mrn = f"GEN-{n:07d}"
        key = {"site": site, "mrn": mrn}
        writer.writerow({"record": "patient", **key, "given_name": "Test", "family_name": f"P{n}",
                         "date_of_birth": "1960-01-01"})
        writer.writerow({"record": "tumour", **key, "laterality": "left",
                         "diagnosis_date": "1995-03-01", "histology": "IDC", "er_percent": 10,
                         "pr_percent": 0, "her2_ihc": "3+"})
        writer.writerow({"record": "nac", **key, "regimen": "AC", "start_date": "1995-04-01",
                         "end_date": "1995-06-01"})
        writer.writerow({"record": "surgery", **key, "date": "1995-08-01", "laterality": "left",
                         "procedure": "BCS", "ypt": "ypT0", "ypn": "ypN0"})
        writer.writerow({"record": "radiotherapy", **key, "start_date": "1995-09-01",
                         "end_date": "1995-10-15"})
        for s in range(studies_per_patient):
            day = date(1996, 1, 15) + timedelta(days=365 * s)
            acc = f"{mrn}-{s:03d}"
            writer.writerow({"record": "study", **key, "accession": acc, "modality": "MG",
                             "study_date": day.isoformat(), "birads": "2",
                             "breast_composition": "b"})
            for group, side in (("L1", "left"), ("R1", "right")):
                writer.writerow({"record": "calcification", **key, "accession": acc,
                                 "group": group, "laterality": side, "morphology": "amorphous",
                                 "distribution": "grouped", "extent_mm": 10 + s % 5,
                                 "count": 8, "inside_tumor_bed": "yes",
                                 "observed_change": "stable"})
    return out.getvalue()
