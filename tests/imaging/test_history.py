"""`load_histories` (plain rows, for the cohort re-evaluation) equals the histories built
from prefetched model instances (`history_from_patient`, for the timeline page)."""

from datetime import date

from demo.seeding.cohort import seed_cohort
from imaging.history import history_from_patient, history_prefetches, load_histories, load_history
from patients.models import Patient


def test_row_loader_equals_the_instance_loader(db, django_assert_max_num_queries):
    seed_cohort(n=25, seed=11, today=date(2026, 11, 1))
    patients = Patient.objects.select_related("tumour").prefetch_related(*history_prefetches())
    expected = {p.id: history_from_patient(p) for p in patients}
    with django_assert_max_num_queries(7):
        histories = load_histories(expected)
    assert histories == expected
    # The comparison covers what the rules read: studies, findings and treatment dates.
    assert sum(len(h.studies) for h in histories.values()) > 100
    assert any(s.calcifications for h in histories.values() for s in h.studies)
    assert any(s.enhancements for h in histories.values() for s in h.studies)
    assert any(h.nac_start_date and h.surgery_date and h.rt_end_date for h in histories.values())


def test_missing_patients_are_left_out(db):
    assert load_histories([987654]) == {}
    try:
        load_history(987654)
    except KeyError:
        pass
    else:
        raise AssertionError("load_history of a deleted patient must raise KeyError")


def test_ids_read_as_a_range_or_a_list_give_only_the_patients_asked_for(db):
    seed_cohort(n=12, seed=4, today=date(2026, 11, 1))
    ids = sorted(Patient.objects.values_list("id", flat=True))
    every = load_histories(ids)
    # Nearly contiguous (read as a range): the patients in the gaps are left out.
    some = [i for k, i in enumerate(ids) if k % 3]
    assert load_histories(some) == {i: every[i] for i in some}
    # Sparse (read as an IN list), in any order.
    sparse = [ids[-1], ids[0]]
    assert load_histories(sparse) == {i: every[i] for i in sparse}
    assert load_histories([]) == {}


def test_findings_are_read_by_a_subquery_of_the_chunks_studies(db):
    """PostgreSQL gets `= ANY(ARRAY(subquery))`: it plans a join or `IN (subquery)` as a
    scan of every finding of the cohort, once per chunk (`imaging.history._InSubquery`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seed_cohort(n=3, seed=4, today=date(2026, 11, 1))
    with CaptureQueriesContext(connection) as ctx:
        load_histories(Patient.objects.values_list("id", flat=True))
    findings = [q["sql"] for q in ctx.captured_queries if 'FROM "imaging_' in q["sql"]
                and "finding" in q["sql"].split(" FROM ")[1].split()[0]]
    expected = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else "IN (SELECT"
    assert len(findings) == 2 and all(expected in sql and "JOIN" not in sql for sql in findings)
