"""Patient histories as plain values, for rule tests (no database).

`case_report()` is the patient of docs/clinical-rules.md: left breast IDC + DCIS with extensive
pleomorphic calcifications and NME with a type 3 curve; AC then paclitaxel +
trastuzumab; MRI complete response while calcifications persist; BCS + ALND with pCR;
residual calcifications that decrease after surgery and then stay stable for 10 years,
with yearly clean MRIs (high risk: diagnosed at 48).
"""

from dataclasses import replace
from datetime import date

from imaging.history import CalcGroup, Lesion, PatientHistory, StudySnapshot

SURGERY = date(2014, 10, 6)
RT_END = date(2014, 12, 19)


def calc(group="L1", extent=18.0, breast="left", morph="fine_pleomorphic", dist="segmental",
         count_bin=">20", inside=True, change=""):
    return CalcGroup(group=group, breast=breast, morphology=morph, distribution=dist,
                     extent_mm=extent, count_bin=count_bin, inside_tumor_bed=inside,
                     observed_change=change)


def lesion(name="L-NME1", size=20.0, breast="left", kind="nme", delayed="persistent"):
    return Lesion(lesion=name, breast=breast, lesion_type=kind, size_mm=size,
                  kinetics_initial="fast", kinetics_delayed=delayed)


def mg(id, when, *groups, phase="surveillance", birads="3", laterality="bilateral"):
    return StudySnapshot(id=id, study_date=when, modality="MG", phase=phase, birads=birads,
                         laterality=laterality, calcifications=tuple(groups))


def mr(id, when, *lesions, phase="surveillance", birads="1"):
    return StudySnapshot(id=id, study_date=when, modality="MR", phase=phase, birads=birads,
                         no_enhancement=not lesions, enhancements=tuple(lesions))


def case_report_studies() -> list[StudySnapshot]:
    studies = [
        mg(1, date(2014, 3, 1), calc(extent=62, change=""), phase="baseline", birads="6"),
        mr(2, date(2014, 3, 4), lesion(size=55, delayed="washout"), phase="baseline", birads="6"),
        mg(3, date(2014, 9, 1), calc(extent=58, change="decrease_size"), phase="post_nac",
           birads="6"),
        mr(4, date(2014, 9, 3), phase="post_nac", birads="2"),  # MRI complete response
        # Post-treatment baseline after radiotherapy, then decrease and stability.
        mg(10, date(2015, 6, 15), calc(extent=30, change="partially_removed")),
        mg(11, date(2016, 6, 14), calc(extent=22, change="decrease_size")),
    ]
    for year in range(2017, 2025):
        studies.append(mg(year, date(year, 6, 12), calc(extent=18, change="stable")))
    for year in range(2015, 2025):
        studies.append(mr(100 + year, date(year, 12, 10)))
    return sorted(studies, key=lambda s: (s.study_date, s.id))


def history(studies) -> PatientHistory:
    return PatientHistory(patient_id=1, studies=tuple(sorted(studies, key=lambda s: (s.study_date, s.id))),
                          surgery_date=SURGERY, surgery_procedure="BCS", surgery_laterality="left",
                          rt_end_date=RT_END, nac_start_date=date(2014, 3, 20),
                          nac_end_date=date(2014, 8, 20), diagnosis_date=date(2014, 3, 1))


def case_report() -> PatientHistory:
    return history(case_report_studies())


def with_study(studies, study_id, **changes) -> list[StudySnapshot]:
    """The same history with one study replaced."""
    return [replace(s, **changes) if s.id == study_id else s for s in studies]
