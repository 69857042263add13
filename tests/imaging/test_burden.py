from datetime import date

from imaging.burden import burden_of, burden_series, nadir, post_treatment_series
from imaging.history import CalcGroup, PatientHistory, StudySnapshot


def mg(i, d, *groups, phase="surveillance", laterality="bilateral", status="final"):
    return StudySnapshot(id=i, study_date=d, modality="MG", phase=phase, laterality=laterality,
                         status=status, calcifications=tuple(groups))


def grp(name, extent, breast="left", morph="fine_pleomorphic", dist="segmental", cb=">20"):
    return CalcGroup(group=name, breast=breast, morphology=morph, distribution=dist,
                     extent_mm=extent, count_bin=cb)


def test_burden_vector_sums_extent_and_takes_highest_ranks():
    study = mg(1, date(2020, 1, 1), grp("L1", 12.5, morph="amorphous", dist="grouped", cb="6-10"),
               grp("L2", 5, morph="round", dist="linear", cb="1-5"),
               grp("R1", 40, breast="right"))
    b = burden_of(study, "left")
    assert (b.extent_mm, b.groups) == (17.5, 2)
    assert (b.morphology_rank, b.distribution_rank, b.count_bin) == (2, 3, "6-10")


def test_breast_without_calcifications_has_zero_burden():
    b = burden_of(mg(1, date(2020, 1, 1)), "left")
    assert (b.extent_mm, b.groups, b.morphology_rank, b.count_bin) == (0, 0, -1, "")
    assert b.extent_label == "none"  # absence is not zero
    assert burden_of(mg(1, date(2020, 1, 1), grp("L1", 12.5)), "left").extent_label == "12.5 mm"


def test_series_keeps_final_exams_of_that_breast_only():
    history = PatientHistory(patient_id=1, studies=(
        mg(1, date(2019, 1, 1), grp("L1", 30)),
        mg(2, date(2020, 1, 1), grp("L1", 20), status="draft"),
        mg(3, date(2021, 1, 1), grp("R1", 9, breast="right"), laterality="right"),
        mg(4, date(2022, 1, 1), grp("L1", 15)),
    ))
    assert [b.study_id for b in burden_series(history, "left")] == [1, 4]


def test_post_treatment_series_starts_after_radiotherapy_and_finds_the_nadir():
    history = PatientHistory(
        patient_id=1, surgery_date=date(2015, 1, 10), rt_end_date=date(2015, 3, 1),
        studies=(
            mg(1, date(2014, 6, 1), grp("L1", 60), phase="baseline"),
            mg(2, date(2015, 2, 1), grp("L1", 25)),  # after surgery, before RT end
            mg(3, date(2015, 9, 1), grp("L1", 22)),
            mg(4, date(2016, 9, 1), grp("L1", 18)),
            mg(5, date(2017, 9, 1), grp("L1", 18)),
        ),
    )
    series = post_treatment_series(history, "left")
    assert [b.study_id for b in series] == [3, 4, 5]
    assert nadir(series).study_id == 4


def test_an_exam_without_calcifications_is_never_the_nadir():
    history = PatientHistory(patient_id=1, surgery_date=date(2015, 1, 10), studies=(
        mg(1, date(2015, 9, 1), grp("L1", 22)), mg(2, date(2016, 9, 1)),
        mg(3, date(2017, 9, 1), grp("L1", 20))))
    assert nadir(post_treatment_series(history, "left")).study_id == 3
    assert nadir(post_treatment_series(history, "right")) is None
