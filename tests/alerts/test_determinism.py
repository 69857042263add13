"""A patient's alerts are a function of her signed history and the thresholds only
(docs/clinical-rules.md, "Deterministic evaluation").

Hypothesis draws random histories and random signing orders. Two patients with the same
history are signed in different orders, each signature evaluated as the outbox handler
does; then a study is amended. After every step the patient's live (not superseded)
alerts must be exactly the decisions of a full evaluation of her signed history, and a
full re-evaluation must change nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.evaluation import evaluate_patient, reevaluate_chunk
from alerts.models import Alert, AlertState
from alerts.rules import evaluate
from imaging import vocabulary as v
from imaging.history import load_history
from imaging.services import study_amend, study_finalize
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import PatientFactory, RadiotherapyFactory, SurgeryFactory

pytestmark = pytest.mark.django_db
SURGERY, RT_END = date(2015, 3, 2), date(2015, 6, 1)


@dataclass(frozen=True)
class Calc:
    group: str
    breast: str
    morphology: str
    distribution: str
    extent_mm: float
    count_bin: str
    change: str


@dataclass(frozen=True)
class Study:
    modality: str
    day: int  # days after surgery (negative: before)
    birads: str
    calcs: tuple[Calc, ...] = ()
    lesions: tuple[tuple[str, str, float, str], ...] = ()  # (label, breast, size, delayed)


calcs = st.builds(
    Calc, group=st.sampled_from(["L1", "L2", "R1"]), breast=st.sampled_from(["left", "right"]),
    morphology=st.sampled_from(["round", "amorphous", "fine_pleomorphic", "fine_linear_branching"]),
    distribution=st.sampled_from(["diffuse", "grouped", "segmental"]),
    extent_mm=st.sampled_from([4.0, 10.0, 15.0, 20.0, 26.0, 33.0]),
    count_bin=st.sampled_from(["1-5", "6-10", ">20"]),
    change=st.sampled_from(["", "stable", "increase_size"]))
lesions = st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["left", "right"]),
                    st.sampled_from([5.0, 10.0, 16.0, 25.0]),
                    st.sampled_from(["persistent", "washout"]))
days = st.sampled_from([-60, 0, 1, 40, 120, 400, 760, 1100, 1500])
mammograms = st.builds(Study, modality=st.just("MG"), day=days, birads=st.sampled_from(["2", "3", "4"]),
                       calcs=st.lists(calcs, max_size=3, unique_by=lambda c: (c.breast, c.group)).map(tuple))
mris = st.builds(Study, modality=st.just("MR"), day=days, birads=st.sampled_from(["1", "5"]),
                 lesions=st.lists(lesions, max_size=2, unique_by=lambda e: (e[1], e[0])).map(tuple))
histories = st.lists(st.one_of(mammograms, mris), min_size=1, max_size=6)


def _draft(patient, study: Study):
    when = SURGERY + timedelta(days=study.day)
    phase = v.Phase.SURVEILLANCE if when > SURGERY else v.Phase.POST_NAC
    row = ImagingStudyFactory(patient=patient, modality=study.modality, study_date=when,
                              phase=phase, birads=study.birads,
                              no_enhancement=study.modality == "MR" and not study.lesions)
    for c in study.calcs:
        CalcificationFindingFactory(study=row, group=c.group, laterality=c.breast,
                                    morphology=c.morphology, distribution=c.distribution,
                                    extent_mm=c.extent_mm, count_bin=c.count_bin,
                                    observed_change=c.change)
    for label, breast, size, delayed in study.lesions:
        EnhancementFindingFactory(study=row, lesion=label, laterality=breast, size_mm=size,
                                  kinetics_delayed=delayed)
    return row


def _patient(site, history: list[Study]):
    patient = PatientFactory(site=site, date_of_birth=date(1966, 5, 14))
    SurgeryFactory(patient=patient, date=SURGERY)
    RadiotherapyFactory(patient=patient, start_date=date(2015, 4, 1), end_date=RT_END)
    return patient, [_draft(patient, s) for s in history]


def live(patient, index: dict[int, int]) -> set[tuple]:
    """The patient's live alerts, their studies named by position in the drawn history."""
    return {(a.rule, a.severity, a.breast, index[a.study_id], a.reason)
            for a in Alert.objects.filter(patient=patient).exclude(state=AlertState.SUPERSEDED)}


def decided(patient, index: dict[int, int]) -> set[tuple]:
    return {(d.rule, d.severity, d.breast, index[d.study_id], d.reason)
            for d in evaluate(load_history(patient.id))}


def assert_in_step(patient, index):
    assert live(patient, index) == decided(patient, index)
    before = list(Alert.objects.filter(patient=patient).order_by("id")
                  .values_list("id", "state", "reason"))
    assert reevaluate_chunk(None, [patient.id]) == (0, 0)  # a full re-evaluation changes nothing
    assert list(Alert.objects.filter(patient=patient).order_by("id")
                .values_list("id", "state", "reason")) == before


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories, order=st.randoms(use_true_random=False), amend=st.data())
def test_signing_order_and_amendments_never_change_the_live_alerts(site, radiologist, history,
                                                                    order, amend):
    by_date, drafts_a = _patient(site, history)
    shuffled, drafts_b = _patient(site, history)
    index = {s.id: i for i, s in enumerate(drafts_a)} | {s.id: i for i, s in enumerate(drafts_b)}
    for study in sorted(drafts_a, key=lambda s: (s.study_date, s.id)):
        study_finalize(study=study, by=radiologist)
        evaluate_patient(by_date.id)
    signing = list(drafts_b)
    order.shuffle(signing)
    for study in signing:
        study_finalize(study=study, by=radiologist)
        evaluate_patient(shuffled.id)
        assert live(shuffled, index) == decided(shuffled, index)  # incremental, at every step
    assert live(shuffled, index) == live(by_date, index)
    assert_in_step(shuffled, index)
    # An amendment rewrites one study's findings: what no longer holds is superseded.
    target = amend.draw(st.sampled_from(drafts_b))
    replacement = amend.draw(mammograms if target.modality == "MG" else mris)
    study_amend(study=target, by=radiologist, reason="re-read", data={
        "no_enhancement": target.modality == "MR" and not replacement.lesions},
        calcifications=[{"group": c.group, "laterality": c.breast, "morphology": c.morphology,
                         "distribution": c.distribution, "extent_mm": c.extent_mm,
                         "count_bin": c.count_bin, "observed_change": c.change,
                         "inside_tumor_bed": True}
                        for c in replacement.calcs],
        enhancements=[{"lesion": label, "laterality": breast, "lesion_type": "nme",
                       "size_mm": size, "kinetics_delayed": delayed}
                      for label, breast, size, delayed in replacement.lesions])
    evaluate_patient(shuffled.id)
    assert_in_step(shuffled, index)


def test_property_histories_do_raise_and_supersede_alerts(site, radiologist):
    """The drawn histories exercise what the property is about: a grown burden signed before
    the exam that sets the nadir raises an alert the later signature supersedes."""
    history = [Study("MG", 400, "2", (Calc("L1", "left", "amorphous", "grouped", 20.0, "6-10", ""),)),
               Study("MG", 760, "2", (Calc("L1", "left", "amorphous", "grouped", 26.0, "6-10", ""),)),
               Study("MG", 1100, "2", (Calc("L1", "left", "amorphous", "grouped", 26.0, "6-10", ""),))]
    patient, drafts = _patient(site, history)
    index = {s.id: i for i, s in enumerate(drafts)}
    for study in (drafts[0], drafts[2], drafts[1]):
        study_finalize(study=study, by=radiologist)
        evaluate_patient(patient.id)
    alerts = {(index[a.study_id], a.rule, a.state) for a in Alert.objects.filter(patient=patient)}
    # Signed 1st and 3rd: +6 mm on the 3rd exam. Then the 2nd: the change was on the 2nd.
    assert alerts == {(2, "calc_extent_increase", AlertState.SUPERSEDED),
                      (1, "calc_extent_increase", AlertState.OPEN)}
    superseded = Alert.objects.get(patient=patient, state=AlertState.SUPERSEDED)
    assert superseded.superseded_reason and superseded.superseded_at
