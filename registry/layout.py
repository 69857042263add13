"""The registry CSV layout (docs/registry-csv.md): one record per row, typed by `record`.

Column names are the model field names, so one column (e.g. `laterality`) serves every
record type that has that field. Rows of a patient are tied together by `site` + `mrn`;
finding rows name their study by `accession`, or by `study_date` + `modality` when the
study has no accession.
"""

from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from patients.models import NacCourse, Pathology, Patient, Radiotherapy, Surgery, TumourProfile

# record → (model, columns read into the model, columns that must not be blank)
RECORDS: dict[str, tuple[type, tuple[str, ...], tuple[str, ...]]] = {
    "patient": (Patient, (
        "given_name", "family_name", "date_of_birth", "follow_up_status",
        "pathogenic_variant", "chest_radiation_before_30", "lifetime_risk_percent", "notes",
    ), ("given_name", "family_name", "date_of_birth")),
    "tumour": (TumourProfile, (
        "laterality", "diagnosis_date", "histology", "grade", "dcis_component",
        "comedo_necrosis", "er_percent", "pr_percent", "her2_ihc", "her2_ish", "ki67_percent",
        "clinical_t", "clinical_n", "diagnosis_calcifications", "diagnosis_mammogram_date",
    ), ("laterality", "diagnosis_date", "histology")),
    "nac": (NacCourse, ("regimen", "agents", "cycles", "start_date", "end_date"),
            ("regimen", "start_date")),
    "radiotherapy": (Radiotherapy, ("start_date", "end_date", "target"), ("start_date",)),
    "surgery": (Surgery, (
        "date", "laterality", "procedure", "axilla", "margins",
        "residual_calcifications_in_place",
    ), ("date", "laterality", "procedure")),
    "study": (ImagingStudy, (
        "accession", "study_date", "modality", "phase", "laterality", "birads",
        "breast_composition", "bpe", "no_enhancement", "report_text",
    ), ("study_date", "modality")),
    "calcification": (CalcificationFinding, (
        "group", "laterality", "morphology", "distribution", "extent_mm", "count", "count_bin",
        "quadrant", "clock", "depth", "nipple_distance_mm", "inside_tumor_bed",
        "clip_present", "observed_change",
    ), ("group", "laterality", "morphology", "distribution", "extent_mm", "inside_tumor_bed")),
    "enhancement": (EnhancementFinding, (
        "lesion", "laterality", "lesion_type", "size_mm", "mass_shape", "mass_margin",
        "nme_distribution", "nme_pattern", "kinetics_initial", "kinetics_delayed",
        "quadrant", "clock", "depth", "nipple_distance_mm", "observed_change",
    ), ("lesion", "laterality", "lesion_type")),
}
# Pathology is given on the surgery row (one per surgery), when `ypt` is filled in.
PATHOLOGY = (Pathology, (
    "ypt", "ypn", "residual_dcis", "pcr_definition", "rcb_class", "rcb_index",
    "excised_calcification_histology",
))
# Columns that name things rather than set fields.
KEY_COLUMNS = ("record", "site", "mrn", "study_status", "signed_by")
# Columns with an extra range rule (database check constraints, checked before writing).
PERCENT_COLUMNS = ("er_percent", "pr_percent", "ki67_percent", "lifetime_risk_percent")
NON_NEGATIVE_COLUMNS = ("extent_mm", "size_mm", "nipple_distance_mm", "rcb_index")


def all_columns() -> list[str]:
    """Every column the layout knows, in documentation order."""
    seen: dict[str, None] = dict.fromkeys(KEY_COLUMNS)
    for _model, columns, _required in RECORDS.values():
        seen.update(dict.fromkeys(columns))
    seen.update(dict.fromkeys(PATHOLOGY[1]))
    return list(seen)
