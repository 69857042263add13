"""Code systems and codes of the FHIR export (docs/api.md, "FHIR R4 export").

Codes reuse SNOMED CT, LOINC, DICOM and the code systems of the HL7 Breast Radiology
IG (RadLex CDEs RDE15xx, set RDES241). The export reuses those codes; it does not claim
conformance to that unpublished IG. Values with no standard code keep the tracker's own
code in the tracker code system `TRACKER`.
"""

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
UCUM = "http://unitsofmeasure.org"
BCP47 = "urn:ietf:bcp:47"  # languages (Patient.communication)
# The HL7 Breast Radiology IG's RadLex CDE code system.
RADLEX_CDE = "http://hl7.org/fhir/us/breast-radiology/CodeSystem/RadLexCDE"
# The tracker's own codes, for values without a standard code.
TRACKER = "urn:breast-surveillance-tracker:codes"

BREAST_CANCER = ("254837009", "Malignant neoplasm of breast")
BODY_SITE = {"left": ("80248007", "Left breast structure"),
             "right": ("73056007", "Right breast structure")}
LATERALITY = {"left": ("7771000", "Left"), "right": ("24028007", "Right"),
              "bilateral": ("51440002", "Right and left")}

REPORT_CODE = {
    "MG_diagnostic": ("26346-7", "MG Breast - bilateral Diagnostic"),
    "MG_screening": ("24606-6", "MG Breast Screening"),
    "MR": ("30794-2", "MR Breast"),
}

BIRADS_ELEMENT = ("RDE1586", "Assessment category")
BIRADS_VALUE = {
    "0": "RDE1586_category0IncompleteNeedAdditionalImaging",
    "1": "RDE1586_category1Negative",
    "2": "RDE1586_category2BenignFinding",
    "3": "RDE1586_category3ProbablyBenignFinding",
    "4": "RDE1586_category4SuspiciousAbnormality",
    "4A": "RDE1586_category4ASuspiciousAbnormalityLowLikelihoodOfBeingCancer",
    "4B": "RDE1586_category4BSuspiciousAbnormalityModerateLikelihoodOfBeingCancer",
    "4C": "RDE1586_category4CSuspiciousAbnormalityHighLikelihoodOfBeingCancer",
    "5": "RDE1586_category5HighlySuggestiveOfMalignancy",
    "6": "RDE1586_category6KnownBiopsyProvenMalignancy",
}

CALCIFICATION_SET = ("RDES241", "Breast Calcification")
CALC_TYPE = ("RDE1565", "Type")
CALC_TYPE_VALUE = {
    "skin": "RDE1565_skin", "vascular": "RDE1565_vascular", "coarse_popcorn": "RDE1565_coarse",
    "large_rod_like": "RDE1565_largeRoadlike", "round": "RDE1565_round", "rim": "RDE1565_rim",
    "dystrophic": "RDE1565_dystrophic", "milk_of_calcium": "RDE1565_milkOfCalcium",
    "suture": "RDE1565_sature", "coarse_heterogeneous": "RDE1565_coarseHeterogeneous",
    "amorphous": "RDE1565_amorphous", "fine_pleomorphic": "RDE1565_finePleomorphic",
    "fine_linear_branching": "RDE1565_fineLinear",
}
OBSERVED_CHANGES = ("RDE1566", "Observed changes")
OBSERVED_CHANGE_VALUE = {
    "new": "RDE1566_new", "stable": "RDE1566_stable",
    "increase_calcifications": "RDE1566_increaseInCalcifications",
    "increase_number": "RDE1566_increaseInNumber", "increase_size": "RDE1566_increaseInSize",
    "decrease_calcifications": "RDE1566_decreaseInCalcifications",
    "decrease_number": "RDE1566_decreaseInNumber", "decrease_size": "RDE1566_decreaseInSize",
    "no_longer_seen": "RDE1566_noLongerSeen", "partially_removed": "RDE1566_partiallyRemoved",
    "not_significantly_changed": "RDE1566_notSignificantlyChanged",
}
OBSERVED_COUNT = ("RDE1567", "Observed count")
OBSERVED_DISTRIBUTION = ("RDE1568", "Observed distribution")
DISTRIBUTION_VALUE = {d: f"RDE1568_{d}" for d in
                      ("diffuse", "regional", "grouped", "linear", "segmental")}
DISTRIBUTION_WIDTH = ("RDE1569", "Observed distribution region width")
OBSERVED_SIZE = ("RDE1570", "Observed size")
CLOCK = ("RDE1558", "Breast body location clock position")
DEPTH = ("RDE1559", "Breast body location depth")
QUADRANT = ("RDE1563", "Quadrant of breast")
QUADRANT_VALUE = {"UOQ": "RDE1563_upperOuter", "UIQ": "RDE1563_upperInner",
                  "LOQ": "RDE1563_lowerOuter", "LIQ": "RDE1563_lowerInner"}
REGION = ("RDE1564", "Region of breast")
REGION_VALUE = {"central": "RDE1564_centralToNipple", "axillary_tail": "RDE1564_axillaryTail"}
BREAST_COMPOSITION = ("RDE1587", "Breast composition category")
COMPOSITION_VALUE = {
    "a": "RDE1587_categoryATheBreastsAreAlmostEntirelyFatty",
    "b": "RDE1587_categoryBThereAreScatteredAreasOfFibroglandularDensity",
    "c": "RDE1587_categoryCTheBreastsAreHeterogeneouslyDense",
    "d": "RDE1587_categoryDTheBreastsAreExtremelyDense",
}

# Enhancement has no RadLex CDE in the IG's set: tracker codes, values as in docs/clinical-rules.md.
ENHANCEMENT = ("mri-enhancement", "MRI breast enhancing lesion")
ENH_COMPONENT = {
    "lesion_type": "Lesion type", "mass_shape": "Mass shape", "mass_margin": "Mass margin",
    "nme_distribution": "NME distribution", "nme_pattern": "NME internal pattern",
    "kinetics_initial": "Kinetics, initial phase", "kinetics_delayed": "Kinetics, delayed phase",
}
