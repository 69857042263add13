"""Common breast-imaging procedure codes (CPT and the LOINC codes of docs/api.md's FHIR export).
Admins add their hospital's own codes, or change these, in Django admin."""

from django.db import migrations

CODES = [
    ("77067", "Screening mammography, bilateral", "MG", "bilateral"),
    ("77066", "Diagnostic mammography, bilateral", "MG", "bilateral"),
    ("77065", "Diagnostic mammography, unilateral", "MG", ""),
    ("77063", "Screening digital breast tomosynthesis, bilateral", "MG", "bilateral"),
    ("77062", "Digital breast tomosynthesis, bilateral", "MG", "bilateral"),
    ("77061", "Digital breast tomosynthesis, unilateral", "MG", ""),
    ("77049", "MRI breast with contrast, bilateral", "MR", "bilateral"),
    ("77048", "MRI breast with contrast, unilateral", "MR", ""),
    ("77047", "MRI breast without contrast, bilateral", "MR", "bilateral"),
    ("77046", "MRI breast without contrast, unilateral", "MR", ""),
    ("76642", "Ultrasound breast, limited", "US", ""),
    ("76641", "Ultrasound breast, complete", "US", ""),
    ("24606-6", "MG Breast Screening (LOINC)", "MG", "bilateral"),
    ("26346-7", "MG Breast bilateral Diagnostic (LOINC)", "MG", "bilateral"),
    ("30794-2", "MR Breast (LOINC)", "MR", ""),
]


def add(apps, schema_editor):
    ProcedureCode = apps.get_model("feeds", "ProcedureCode")
    for code, description, modality, laterality in CODES:
        ProcedureCode.objects.get_or_create(code=code, defaults={
            "description": description, "modality": modality, "laterality": laterality})


class Migration(migrations.Migration):
    dependencies = [("feeds", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
