import itertools
from datetime import date, timedelta

import pytest

from cohort.selectors import (
    DRAFT_ONLY,
    MISSING,
    NO_PATHOLOGY,
    UNREAD,
    CohortFilters,
    SurvivalRow,
    concordance_counts,
    pcr_q,
    survival_rows,
    total_counts,
)
from cohort.stats import TwoByTwo
from imaging import vocabulary as iv
from patients import vocabulary as pv
from patients.models import ClinicalEvent, Pathology
from tests.cohort import builders as b
from tests.cohort.conftest import HER2, TN
from tests.patients.factories import ClinicVisitFactory, PathologyFactory, SurgeryFactory


def counts(site, **kw):
    return concordance_counts(CohortFilters(site_ids=(site.id,), **kw))


def test_reference_cohort_tables_and_exclusions(cohort, site):
    total = total_counts(counts(site))
    assert total.tables["MR"] == TwoByTwo(tp=2, fp=1, fn=1, tn=3)
    assert total.tables["MG"] == TwoByTwo(tp=1, fp=2, fn=2, tn=2)
    assert total.excluded["MR"] == {NO_PATHOLOGY: 1, MISSING: 0, DRAFT_ONLY: 1, UNREAD: 0}
    assert total.excluded["MG"] == {NO_PATHOLOGY: 1, MISSING: 1, DRAFT_ONLY: 0, UNREAD: 0}


def test_histology_of_excised_calcifications_counts_mammography_positive_patients(cohort, site):
    total = total_counts(counts(site))
    assert total.histology == {"benign": 1, "dcis": 1, "invasive": 1, "mixed": 0, "not_sampled": 0}


def test_breakdown_by_subtype(cohort, site):
    per = counts(site)
    assert set(per) == {HER2, TN}
    assert per[HER2].tables["MR"] == TwoByTwo(tp=2, fp=0, fn=0, tn=2)
    assert per[HER2].tables["MG"] == TwoByTwo(tp=1, fp=2, fn=1, tn=0)
    assert per[TN].tables["MR"] == TwoByTwo(tp=0, fp=1, fn=1, tn=1)
    assert per[TN].tables["MG"] == TwoByTwo(tp=0, fp=0, fn=1, tn=2)
    assert per[HER2].excluded["MR"][NO_PATHOLOGY] == 1
    assert per[TN].excluded["MR"][DRAFT_ONLY] == 1


@pytest.mark.parametrize("definition, mr, mg", [
    # ypTis ypN0 (#3) becomes residual disease: MRI misses it, mammography finds it.
    (pv.PcrDefinition.YPT0_YPN0, TwoByTwo(2, 1, 2, 2), TwoByTwo(2, 1, 2, 2)),
    # ypT0 ypN1 (#6) becomes pCR when only the breast counts.
    (pv.PcrDefinition.YPT0IS_BREAST, TwoByTwo(2, 1, 0, 4), TwoByTwo(1, 2, 1, 3)),
])
def test_pcr_definition_switches_the_truth(cohort, site, definition, mr, mg):
    total = total_counts(counts(site, pcr_definition=definition))
    assert (total.tables["MR"], total.tables["MG"]) == (mr, mg)


def test_subtype_filter_keeps_one_subtype(cohort, site):
    per = counts(site, subtype=TN)
    assert set(per) == {TN}
    assert per[TN].tables["MR"].n == 3


def test_surgery_filters(cohort, site):
    late = b.patient(site, ypt="ypT1", mr="pos", mg="pos", surgery_date=date(2023, 5, 1),
                     procedure=pv.SurgeryProcedure.MASTECTOMY)
    assert late
    only_late = total_counts(counts(site, surgery_from=date(2023, 1, 1)))
    assert only_late.tables["MR"] == TwoByTwo(tp=1)
    mastectomy = total_counts(counts(site, procedure=pv.SurgeryProcedure.MASTECTOMY))
    assert mastectomy.tables["MG"] == TwoByTwo(tp=1)
    # Patient #8 has a BCS without pathology: excluded only while BCS is selected.
    assert mastectomy.excluded["MR"][NO_PATHOLOGY] == 0
    bcs = total_counts(counts(site, procedure=pv.SurgeryProcedure.BCS, surgery_to=date(2021, 1, 1)))
    assert bcs.tables["MR"].n == 7 and bcs.excluded["MR"][NO_PATHOLOGY] == 1


def test_index_surgery_is_the_first_with_pathology(site):
    p = b.patient(site, ypt="ypT2", ypn="ypN1", mr="pos")
    # A later re-excision finding nothing does not turn the response into a pCR.
    PathologyFactory(surgery=SurgeryFactory(patient=p, date=b.SURGERY + timedelta(days=30)),
                     ypt="ypT0", ypn="ypN0")
    total = total_counts(counts(site))
    assert total.tables["MR"] == TwoByTwo(tp=1)


def test_other_sites_are_not_counted(cohort, site, other_site):
    assert counts(other_site) == {}


def test_no_patients_at_all(site):
    assert counts(site) == {}


def test_pcr_in_the_database_matches_is_pcr_for_every_combination(site):
    patient = b.patient(site, pathology=False)
    combos = list(itertools.product(pv.YpT.values, [*pv.YpN.values, ""]))
    for i, (ypt, ypn) in enumerate(combos):
        surgery = SurgeryFactory(patient=patient, date=b.SURGERY + timedelta(days=i))
        PathologyFactory(surgery=surgery, ypt=ypt, ypn=ypn)
    for definition in pv.PcrDefinition.values:
        in_db = set(Pathology.objects.filter(pcr_q(definition)).values_list("ypt", "ypn"))
        assert in_db == {(t, n) for t, n in combos if pv.is_pcr(t, n, definition)}, definition


# --- survival ---------------------------------------------------------------------------


def test_survival_rows_time_from_surgery_to_event_or_last_contact(site):
    s = b.SURGERY
    relapsed = b.patient(site, ypt="ypT2", ypn="ypN1", mg="pos")
    ClinicalEvent.objects.create(patient=relapsed, date=s + timedelta(days=400),
                                 kind=pv.EventKind.LOCAL_RECURRENCE)
    ClinicalEvent.objects.create(patient=relapsed, date=s + timedelta(days=500),
                                 kind=pv.EventKind.DISTANT_RECURRENCE)
    followed = b.patient(site, mg="neg")
    ClinicVisitFactory(patient=followed, date=s + timedelta(days=700))
    b.study(followed, iv.Modality.MG, s + timedelta(days=365), phase=iv.Phase.SURVEILLANCE)
    b.study(followed, iv.Modality.MG, s + timedelta(days=900), phase=iv.Phase.SURVEILLANCE,
            final=False)  # a draft is not a contact
    died = b.patient(site, mg="pos")
    # Death and a contralateral cancer are not EFS events; they are last contacts.
    ClinicalEvent.objects.create(patient=died, date=s + timedelta(days=1000), kind=pv.EventKind.DEATH)
    ClinicalEvent.objects.create(patient=died, date=s + timedelta(days=800),
                                 kind=pv.EventKind.CONTRALATERAL)
    early = b.patient(site, ypt="ypT1", mg="neg")
    # Progression before surgery does not count: time starts at surgery.
    ClinicalEvent.objects.create(patient=early, date=s - timedelta(days=10),
                                 kind=pv.EventKind.CONFIRMED_PROGRESSION)
    b.patient(site, mr="pos")  # no mammogram: not in the survival analysis
    rows = survival_rows(CohortFilters(site_ids=(site.id,)))
    assert sorted(rows, key=lambda r: r.days) == [
        SurvivalRow(is_pcr=False, mg="negative", days=0, event=False, n=1),
        SurvivalRow(is_pcr=False, mg="positive", days=400, event=True, n=1),
        SurvivalRow(is_pcr=True, mg="negative", days=700, event=False, n=1),
        SurvivalRow(is_pcr=True, mg="positive", days=1000, event=False, n=1),
    ]


def test_survival_rows_group_patients_with_the_same_outcome(site):
    for _ in range(3):
        p = b.patient(site, mg="pos")
        ClinicVisitFactory(patient=p, date=b.SURGERY + timedelta(days=365))
    rows = survival_rows(CohortFilters(site_ids=(site.id,)))
    assert rows == [SurvivalRow(is_pcr=True, mg="positive", days=365, event=False, n=3)]


def test_patient_without_tumour_profile_counts_as_unknown_subtype(site):
    p = b.patient(site, ypt="ypT2", mr="pos")
    p.tumour.delete()
    assert set(counts(site)) == {pv.Subtype.UNKNOWN}
    unknown = counts(site, subtype=pv.Subtype.UNKNOWN)
    assert unknown[pv.Subtype.UNKNOWN].tables["MR"] == TwoByTwo(tp=1)
    assert counts(site, subtype=pv.Subtype.TRIPLE_NEGATIVE) == {}


def test_an_mri_is_negative_only_when_marked_no_enhancement(db, site):
    """A signed post-NAC MRI with neither a lesion nor "no enhancement" (signed before the
    rule that refuses it) is read as neither: it is counted apart, not as a negative."""
    flagged = b.patient(site, mr="neg")
    unread = b.patient(site, mr="neg")
    unread.studies.filter(modality="MR").update(no_enhancement=False)
    assert flagged.studies.get(modality="MR").no_enhancement
    total = total_counts(counts(site))
    assert total.tables["MR"] == TwoByTwo(tn=1)
    assert total.excluded["MR"][UNREAD] == 1
