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

# --- SNOMED CT and DICOM translations of the BI-RADS lexicon ---------------------------
# SNOMED's "Mammography assessment (Category n)" findings. SNOMED has no code for the
# subcategories 4A–4C in this family: they carry category 4 (the RadLex coding keeps the
# subcategory), and category 6 (known malignancy) has no code here at all. The concepts are
# defined for mammography, so MRI and ultrasound assessments get the RadLex coding only.
BIRADS_SNOMED = {
    "0": ("397138000", "Mammography assessment (Category 0) - Need additional imaging evaluation"),
    "1": ("397140005", "Mammography assessment (Category 1) - Negative"),
    "2": ("397141009", "Mammography assessment (Category 2) - Benign finding"),
    "3": ("397143007", "Mammography assessment (Category 3) - Probably benign finding, "
                       "short interval follow-up"),
    "4": ("397144001", "Mammography assessment (Category 4) - Suspicious abnormality, "
                       "biopsy should be considered"),
    "5": ("397145000", "Mammography assessment (Category 5) - Highly suggestive of malignancy"),
}
BIRADS_SNOMED.update({sub: BIRADS_SNOMED["4"] for sub in ("4A", "4B", "4C")})

# DICOM PS3.16 CID 6011 "Calcification Type from BI-RADS" (SNOMED CT codes, and two DICOM
# codes). BI-RADS 5th edition's "rim" is the 4th edition's eggshell (thin rim) finding;
# "fine linear or fine-linear branching" is coded as the branching (casting) concept.
CALC_TYPE_CID6011 = {
    "skin": (SNOMED, "129757003", "Calcified skin of breast"),
    "vascular": (SNOMED, "129759000", "Vascular calcification"),
    "coarse_popcorn": (SNOMED, "129749001", "Coarse (popcorn-like) calcification"),
    "large_rod_like": (SNOMED, "129752009", "Large rod-like calcification"),
    "round": (SNOMED, "129756007", "Round shaped calcification"),
    "rim": (SNOMED, "129751002", "Eggshell calcification"),
    "dystrophic": (SNOMED, "129750001", "Dystrophic calcification"),
    "milk_of_calcium": (SNOMED, "129753004", "Milk of calcium calcification"),
    "suture": (SNOMED, "129758008", "Calcified suture material"),
    "coarse_heterogeneous": (SNOMED, "129763007", "Heterogeneous calcification"),
    "amorphous": (SNOMED, "129760005", "Amorphous calcification"),
    "fine_pleomorphic": (DICOM, "111344", "Fine pleomorphic calcification"),
    "fine_linear_branching": (SNOMED, "129762002", "Fine linear, branching (casting) calcification"),
}
# DICOM PS3.16 CID 6013 "Calcification Distribution Modifier from BI-RADS".
CALC_DISTRIBUTION_CID6013 = {
    "diffuse": (SNOMED, "129764001", "Diffuse calcification distribution"),
    "regional": (SNOMED, "129767008", "Regional calcification distribution"),
    "grouped": (SNOMED, "129766004", "Grouped calcification distribution"),
    "linear": (SNOMED, "129765000", "Linear calcification distribution"),
    "segmental": (SNOMED, "129768003", "Segmental calcification distribution"),
}

# --- mCODE (minimal Common Oncology Data Elements, STU4) ---------------------------------
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROFILE_PRIMARY_CANCER = MCODE + "mcode-primary-cancer-condition"
PROFILE_TUMOR_MARKER = MCODE + "mcode-tumor-marker-test"
PROFILE_SURGICAL_PROCEDURE = MCODE + "mcode-cancer-related-surgical-procedure"
PROFILE_DISEASE_STATUS = MCODE + "mcode-cancer-disease-status"
EXT_HISTOLOGY = MCODE + "mcode-histology-morphology-behavior"
EXT_EVIDENCE_TYPE = MCODE + "mcode-cancer-disease-status-evidence-type"
EXT_RELATED_CONDITION = MCODE + "mcode-related-condition"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"

# Histology → (SNOMED morphologic abnormality, ICD-O-3 morphology/behaviour). "Mixed" and
# "other" have no single code and get no histology extension.
HISTOLOGY_MORPHOLOGY = {
    "IDC": (("82711006", "Infiltrating duct carcinoma"), ("8500/3", "Infiltrating duct carcinoma, NOS")),
    "ILC": (("89740008", "Lobular carcinoma"), ("8520/3", "Lobular carcinoma, NOS")),
    "DCIS": (("86616005", "Intraductal carcinoma, noninfiltrating"),
             ("8500/2", "Intraductal carcinoma, noninfiltrating, NOS")),
}

# Tumour markers (LOINC) and their qualitative answers (LOINC answer codes).
ER_IHC = ("85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain")
PR_IHC = ("85339-0", "Progesterone receptor Ag [Presence] in Breast cancer specimen by Immune stain")
HER2_IHC = ("85319-2", "HER2 [Presence] in Breast cancer specimen by Immune stain")
HER2_ISH = ("85318-4", "HER2 [Presence] in Breast cancer specimen by FISH")
POSITIVE = ("LA6576-8", "Positive")
NEGATIVE = ("LA6577-6", "Negative")

# Surgery (SNOMED CT procedures).
SURGERY_CODE = {
    "BCS": ("64368001", "Excision of part of breast"),
    "mastectomy": ("69031006", "Excision of breast tissue"),
}
AXILLA_CODE = {
    "SLNB": ("396487001", "Sentinel lymph node biopsy"),
    "ALND": ("234262008", "Excision of axillary lymph node"),
}

# Cancer disease status (mCODE CancerDiseaseStatus).
DISEASE_STATUS = ("97509-4", "Cancer disease progression")
EVIDENCE_IMAGING = ("363679005", "Imaging")
# Tracker judgement → SNOMED CT. mCODE dropped 260415000 "Not detected" from its value sets
# (STU2, FHIR-32837); "no imaging evidence of disease" is coded as in full remission, which
# the STU3 value set and the STU4 maximum value set hold.
DISEASE_STATUS_VALUE = {
    "not_detected": ("103338009", "In full remission"),
    "improved": ("268910001", "Patient's condition improved"),
    "stable": ("359746009", "Patient's condition stable"),
    "worsened": ("271299001", "Patient's condition worsened"),
    "undetermined": ("709137006", "Patient condition undetermined"),
}
