"""Who the demo patients are. Dates are relative to the day the demo is first loaded.

docs/demo-data.md tells the same story in words; keep the two in step.
"""

import random
from datetime import date, timedelta

from .course import YEAR, Course, Progression
from .sampling import sample_course

CASE_REPORT_MRN = "NC-100001"
CASE_REPORT_NAME = ("Helen", "Marsh")
# Surgery 10 years 2 months before today: her tenth annual MRI is about now.
CASE_REPORT_SURGERY_DAYS_AGO = 3722

# (extent_mm, count_bin, observed_change) of the left L1 group on each post-surgical
# mammogram: 10 annual (bilateral) plus 2 diagnostic (left) at 6 and 18 months.
# Decreasing for two years, then stable: nadir 16.5 mm, never more than 0.5 mm above it.
CASE_REPORT_CALCS = [
    (28.0, ">20", "partially_removed"),
    (24.0, ">20", "decrease_size"),
    (20.0, "11-20", "decrease_number"),
    (18.0, "11-20", "decrease_size"),
    (17.0, "11-20", "not_significantly_changed"),
    (17.0, "11-20", "stable"),
    (16.5, "11-20", "not_significantly_changed"),
    (17.0, "11-20", "stable"),
    (17.0, "11-20", "stable"),
    (16.5, "11-20", "not_significantly_changed"),
    (17.0, "11-20", "stable"),
    (17.0, "11-20", "stable"),
]


def ago(today: date, years: float) -> date:
    return today - timedelta(days=round(years * YEAR))


def case_report(today: date) -> Course:
    """docs/clinical-rules.md's typical patient (case report, 2022), study by study."""
    return Course(
        mrn=CASE_REPORT_MRN, given_name=CASE_REPORT_NAME[0], family_name=CASE_REPORT_NAME[1],
        age_at_diagnosis=48, surgery_date=today - timedelta(days=CASE_REPORT_SURGERY_DAYS_AGO),
        breast="left", quadrant="UOQ", histology="IDC", grade=3, dcis_component=True,
        comedo_necrosis=True, er=50, pr=0, her2_ihc="3+", ki67=40, clinical_t="cT2",
        clinical_n="cN1", regimen="AC-TH", tumour_mm=65.0, baseline_nme=True,
        dx_calc=("fine_pleomorphic", "segmental", 60.0, ">20"), post_nac_calc_mm=55.0,
        post_nac_enh_mm=None, mid_nac=True, ypt="ypT0", ypn="ypN0", pcr_definition="ypT0_ypN0",
        rcb_class="0", rcb_index=0.0, excised_histology="benign", procedure="BCS", axilla="ALND",
        radiotherapy=True, rt_days=21, residual_in_place=True, surv_calc_series=CASE_REPORT_CALCS,
        composition="c", bpe="mild", jitter=False,
        notes="Case-report patient: extensive calcifications persisted after NAC while "
              "MRI showed complete response; pCR at surgery. Residual calcifications followed for "
              "ten years without progression. Adjuvant trastuzumab completed to one year.",
    )


def _hr_pos_her2_neg(**kw) -> dict:
    return dict(er=90, pr=60, her2_ihc="1+", regimen="AC-T", **kw)


def _her2_pos(hr: bool, **kw) -> dict:
    return dict(er=70 if hr else 0, pr=20 if hr else 0, her2_ihc="3+", regimen="AC-THP", **kw)


def _tn(**kw) -> dict:
    return dict(er=0, pr=0, her2_ihc="0", regimen="AC-TCb", **kw)


RESIDUAL = dict(ypt="ypT1", ypn="ypN0", rcb_class="I", rcb_index=1.1, residual_dcis=True)


def scenarios(today: date) -> list[tuple[str, Course]]:
    """Hand-written patients, each showing one thing the tracker must catch (or not)."""
    calc = ("fine_pleomorphic", "grouped", 35.0, ">20")
    amorph = ("amorphous", "grouped", 22.0, "11-20")
    return [
        ("north", case_report(today)),
        ("north", Course(
            "NC-100002", "Grace", "Whitfield", 52, ago(today, 6.1), quadrant="UOQ", dx_calc=calc,
            post_nac_calc_mm=30.0, post_nac_enh_mm=9.0, residual_in_place=True, surv_calc_mm=12.0,
            excised_histology="dcis", progression=Progression("extent_flb", 5.5),
            events=[(ago(today, 0.3), "local_recurrence",
                     "Stereotactic biopsy: recurrent invasive carcinoma in the tumour bed.")],
            **RESIDUAL, **_hr_pos_her2_neg())),
        ("north", Course(
            "NC-100003", "Priya", "Raman", 44, ago(today, 4.2), breast="right", quadrant="UIQ",
            composition="c", dx_calc=amorph, post_nac_calc_mm=15.0, excised_histology="benign",
            progression=Progression("new_group_outside", 3.5), **_tn())),
        ("north", Course(
            "NC-100004", "Sofia", "Lindqvist", 38, ago(today, 7.5), quadrant="LOQ", composition="d",
            pathogenic_variant=True, notes="BRCA1 carrier.", baseline_nme=True,
            progression=Progression("mri_nme", 7.0), **_tn())),
        ("north", Course(
            "NC-100005", "Martha", "Olusegun", 57, ago(today, 3.9), breast="right", dx_calc=amorph,
            post_nac_calc_mm=18.0, post_nac_enh_mm=6.0, residual_in_place=True, surv_calc_mm=10.0,
            excised_histology="mixed", progression=Progression("count_birads4b", 3.5),
            ypt="ypT1mi", ypn="ypN0", rcb_class="I", rcb_index=0.6, **_her2_pos(True))),
        ("north", Course(
            "NC-100006", "Ingrid", "Sorensen", 61, ago(today, 7.0), dx_calc=calc, post_nac_calc_mm=28.0,
            post_nac_enh_mm=8.0, residual_in_place=True, surv_calc_mm=14.0, excised_histology="benign",
            progression=Progression("creep", 6.5), **RESIDUAL, **_hr_pos_her2_neg())),
        ("north", Course(
            "NC-100007", "Ruth", "Castellano", 63, ago(today, 6.2), breast="right", dx_calc=amorph,
            post_nac_calc_mm=24.0, excised_histology="benign", composition="b",
            surv_calc_series=[(20.0, "11-20", "partially_removed"), (17.0, "11-20", "decrease_size"),
                              (16.0, "11-20", "stable"), (17.0, "11-20", "not_significantly_changed"),
                              (18.0, "11-20", "not_significantly_changed"),
                              (20.0, "11-20", "not_significantly_changed")],
            notes="Near miss: +4 mm over the nadir is below the 5 mm threshold.",
            **_her2_pos(True))),
        ("north", Course(
            "NC-100008", "Deirdre", "Connolly", 66, ago(today, 2.5), procedure="mastectomy",
            axilla="ALND", clinical_t="cT3", tumour_mm=60.0, post_nac_enh_mm=20.0, draft_latest=True,
            ypt="ypT2", ypn="ypN1", rcb_class="II", rcb_index=2.4, composition="a",
            **_hr_pos_her2_neg())),
        ("north", Course(
            "NC-100009", "Yasmin", "Haddad", 59, ago(today, 5.5), composition="b",
            imaging_stops=ago(today, 1.3), notes="Moved house; letters returned.",
            **_her2_pos(False))),
        ("north", Course(
            "NC-100010", "Olga", "Petrenko", 47, ago(today, 6.0), procedure="mastectomy", axilla="ALND",
            clinical_t="cT4", clinical_n="cN2", tumour_mm=70.0, post_nac_enh_mm=30.0, ypt="ypT2",
            ypn="ypN2", rcb_class="III", rcb_index=3.9, imaging_stops=ago(today, 3.9),
            events=[(ago(today, 3.9), "distant_recurrence", "Liver and bone metastases on staging CT."),
                    (ago(today, 2.6), "death", "")],
            follow_up_status="deceased", **_tn())),
        ("south", Course(
            "SC-200001", "Beatrice", "Nwosu", 46, ago(today, 5.5), composition="c",
            contralateral_mass_mm=7.0, post_nac_enh_mm=8.0, ypt="ypT1", ypn="ypN0", rcb_class="I",
            rcb_index=1.2, progression=Progression("mri_growth", 5.0),
            notes="Right breast fibroadenoma known since diagnosis.", **_her2_pos(False))),
        ("south", Course(
            "SC-200002", "Leila", "Farahani", 55, ago(today, 3.0), breast="right", dx_calc=calc,
            post_nac_calc_mm=26.0, residual_in_place=True, surv_calc_mm=11.0,
            excised_histology="benign", progression=Progression("extent_flb", 2.5), **_her2_pos(True))),
        ("south", Course(
            "SC-200003", "Noor", "Siddiqui", 42, ago(today, 1.25), composition="d", draft_latest=True,
            **_tn())),
        ("south", Course(
            "SC-200004", "Valerie", "Duchamp", 68, ago(today, 6.0), composition="b",
            imaging_stops=ago(today, 2.5), follow_up_status="lost_to_follow_up",
            **_hr_pos_her2_neg(ypt="ypT2", ypn="ypN1", rcb_class="II", rcb_index=2.1))),
        ("south", Course(
            "SC-200005", "Teresa", "Almeida", 49, ago(today, 4.5), breast="right", post_nac_enh_mm=12.0,
            ypt="ypT1", ypn="ypN1", rcb_class="II", rcb_index=1.9, imaging_stops=ago(today, 1.5),
            events=[(ago(today, 1.5), "regional_recurrence", "Axillary node recurrence, biopsy-proven.")],
            **_hr_pos_her2_neg())),
        ("south", Course(
            "SC-200006", "Eleanor", "Whitcombe", 53, ago(today, 10.6), dx_calc=calc, post_nac_calc_mm=20.0,
            excised_histology="benign", follow_up_status="completed", composition="b",
            **_her2_pos(False))),
    ]


GENERATED_NAMES = (
    ("Alice", "Brennan-Hart"), ("Amara", "Okonkwo"), ("Ana", "Ferreira"), ("Brigid", "Kelleher"),
    ("Carmen", "Ruiz"), ("Chloe", "Marchetti"), ("Dana", "Kowalczyk"), ("Elif", "Demir"),
    ("Fatima", "Zahra"), ("Fiona", "MacLeod"), ("Hannah", "Goldberg"), ("Ines", "Moreira"),
    ("Joanna", "Wisniewska"), ("Karen", "Holt"), ("Laila", "Mansour"), ("Maeve", "Gallagher"),
    ("Mei", "Takahashi"), ("Miriam", "Adeyemi"), ("Nadia", "Volkova"), ("Naomi", "Fairbanks"),
    ("Rosa", "Benedetti"), ("Susan", "Pryce"), ("Tamar", "Levi"), ("Una", "Byrne"), ("Wendy", "Osei"),
)


def generated(today: date) -> list[tuple[str, Course]]:
    """Ordinary patients drawn with a fixed seed: varied, none progressing."""
    rng = random.Random(20260)
    out = []
    for i, (given, family) in enumerate(GENERATED_NAMES):
        site = "north" if i < 14 else "south"
        mrn = f"NC-1001{i + 1:02d}" if site == "north" else f"SC-2001{i - 13:02d}"
        course = sample_course(rng, mrn=mrn, today=today, surprises=False, given_name=given,
                               family_name=family)
        course.report_text = True
        course.draft_latest = i == 3  # one more unsigned study waiting for the radiologist
        out.append((site, course))
    return out


def roster(today: date) -> list[tuple[str, Course]]:
    return scenarios(today) + generated(today)
