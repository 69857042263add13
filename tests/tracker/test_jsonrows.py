"""`core.jsonrows`: related rows read as JSON give the same instances as the ORM.

Runs on the test database's backend (SQLite by default, PostgreSQL with DATABASE_URL),
so each backend's SQL and its ordering (in SQL on PostgreSQL, in Python on SQLite) is
compared with Django's own `order_by` on that backend.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Count, Model, OuterRef, Q, Subquery

from alerts.models import Alert
from core.jsonrows import CompiledAnnotations, JsonRows, RowSet
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from patients.models import ClinicalEvent, ClinicVisit, Pathology, Patient, Surgery
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import (
    ClinicVisitFactory,
    PathologyFactory,
    PatientFactory,
    SurgeryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MINE = Q(patient=OuterRef("pk"))
STUDIES = JsonRows(ImagingStudy, order_by=("study_date", "id"))
CALCS = JsonRows(CalcificationFinding, order_by=("laterality", "group", "id"))
LESIONS = JsonRows(EnhancementFinding, order_by=("laterality", "lesion", "id"))
SURGERIES = JsonRows(Surgery, order_by=("date", "id"), related=("pathology",))
VISITS = JsonRows(ClinicVisit, order_by=("-date", "-id"), related=("recorded_by",))
EVENTS = JsonRows(ClinicalEvent, order_by=("date", "id"))
ALERTS = JsonRows(Alert, order_by=("-created_at", "-id"), defer=("details",))
ROWS = RowSet(Patient, {
    "studies": (STUDIES, MINE),
    "calcifications": (CALCS, Q(study__patient=OuterRef("pk"))),
    "enhancements": (LESIONS, Q(study__patient=OuterRef("pk"))),
    "surgeries": (SURGERIES, MINE),
    "visits": (VISITS, MINE),
    "events": (EVENTS, MINE),
    "alerts": (ALERTS, MINE & Q(state="open")),
})


def values(obj, defer=()) -> list[tuple]:
    """Every loaded field as (name, type, value): the types must match the ORM's too."""
    return [(f.attname, type(getattr(obj, f.attname)), getattr(obj, f.attname))
            for f in obj._meta.concrete_fields if f.name not in defer]


@pytest.fixture
def patient():
    patient = PatientFactory()
    signer = UserFactory(username="signer", first_name="Ana", last_name="Reyes")
    # Same dates and labels that sort differently by case, digits and accents.
    for day, extent in ((date(2016, 1, 15), Decimal("12.5")), (date(2016, 1, 15), 30), (date(2015, 6, 1), 7)):
        study = ImagingStudyFactory(patient=patient, study_date=day, final=True, signed_by=signer)
        for group in ("L10", "L2", "b1", "B1", "Ä1"):
            CalcificationFindingFactory(study=study, group=group, extent_mm=extent, count=None,
                                        nipple_distance_mm=Decimal("40.5"))
        CalcificationFindingFactory(study=study, group="R1", laterality="right", extent_mm=3)
    mr = ImagingStudyFactory(patient=patient, modality="MR", study_date=date(2016, 2, 1))
    EnhancementFindingFactory(study=mr, lesion="E2", size_mm=None)
    EnhancementFindingFactory(study=mr, lesion="E10", size_mm=Decimal("8.0"))
    SurgeryFactory(patient=patient, date=date(2014, 10, 6))  # no pathology
    operated = SurgeryFactory(patient=patient, date=date(2014, 10, 6))
    PathologyFactory(surgery=operated, rcb_index=Decimal("1.25"))
    ClinicVisitFactory(patient=patient, date=date(2015, 3, 1), recorded_by=signer)
    ClinicVisitFactory(patient=patient, date=date(2015, 3, 1), recorded_by=None)
    ClinicVisitFactory(patient=patient, date=date(2016, 3, 1), recorded_by=signer)
    ClinicalEvent.objects.create(patient=patient, date=date(2020, 1, 1), kind="local_recurrence")
    for i, state in enumerate(("open", "open", "acknowledged")):
        Alert.objects.create(patient=patient, rule="calc_new_group", severity="high", state=state,
                             study=mr, dedup_key=f"{patient.id}:{i}", reason="New group", details={"i": i})
    PatientFactory(site=patient.site)  # another patient's rows are not read
    return patient


def load(pk: int) -> dict[str, list]:
    return ROWS.read(ROWS.annotate(Patient.objects.filter(pk=pk)).get())


def test_rows_equal_the_orms_instances_in_the_orms_order(patient, django_assert_num_queries):
    with django_assert_num_queries(1):  # the patient and all her rows
        rows = load(patient.pk)
    expected = {
        "studies": ImagingStudy.objects.filter(patient=patient).order_by("study_date", "id"),
        "calcifications": CalcificationFinding.objects.filter(study__patient=patient)
        .order_by("laterality", "group", "id"),
        "enhancements": EnhancementFinding.objects.filter(study__patient=patient)
        .order_by("laterality", "lesion", "id"),
        "surgeries": Surgery.objects.filter(patient=patient).order_by("date", "id"),
        "visits": ClinicVisit.objects.filter(patient=patient).order_by("-date", "-id"),
        "events": ClinicalEvent.objects.filter(patient=patient).order_by("date", "id"),
        "alerts": Alert.objects.filter(patient=patient, state="open").order_by("-created_at", "-id"),
    }
    for name, queryset in expected.items():
        defer = ("details",) if name == "alerts" else ()
        assert [values(o, defer) for o in rows[name]] == [values(o, defer) for o in queryset], name
    assert [c.group for c in rows["calcifications"]][:5] == list(
        CalcificationFinding.objects.filter(study__patient=patient, laterality="left")
        .order_by("laterality", "group", "id").values_list("group", flat=True))[:5]
    assert len(rows["calcifications"]) == 18 and len(rows["alerts"]) == 2


def test_related_objects_are_cached_as_select_related_would(patient, django_assert_num_queries):
    rows = load(patient.pk)
    with django_assert_num_queries(0):
        pathologies = [getattr(s, "pathology", None) for s in rows["surgeries"]]
        authors = [v.recorded_by for v in rows["visits"]]
    assert pathologies[0] is None
    expected = Pathology.objects.get(surgery=rows["surgeries"][1])
    assert values(pathologies[1]) == values(expected) and pathologies[1].rcb_index == Decimal("1.25")
    assert [a.username if a else None for a in authors] == ["signer", None, "signer"]
    assert authors[0].get_full_name() == "Ana Reyes"
    assert authors[0] is authors[2]  # one object per related row, as many rows as refer to it


def test_deferred_fields_load_on_access(patient, django_assert_num_queries):
    alert = load(patient.pk)["alerts"][0]
    with django_assert_num_queries(1):
        assert alert.details == {"i": 1}


def test_a_patient_without_rows_gets_empty_lists(db):
    assert all(rows == [] for rows in load(PatientFactory().pk).values())


def test_many_parents_each_get_their_own_rows(patient):
    other = PatientFactory(site=patient.site)
    ClinicVisitFactory(patient=other, findings="other's visit")
    both = ROWS.annotate(Patient.objects.filter(pk__in=[patient.pk, other.pk]).order_by("pk"))
    mine, theirs = (ROWS.read(p) for p in both)
    assert len(mine["visits"]) == 3 and [v.findings for v in theirs["visits"]] == ["other's visit"]


def test_the_sql_is_compiled_once_per_database(patient):
    load(patient.pk)
    compiled = ROWS.annotations.columns("default")
    load(patient.pk)
    assert ROWS.annotations.columns("default") is compiled


def test_only_querysets_of_the_parent():
    with pytest.raises(TypeError):
        ROWS.annotate(ImagingStudy.objects.all())


def test_json_fields_must_be_deferred():
    with pytest.raises(ValueError, match="JSON"):
        JsonRows(Alert, order_by=("id",)).expression(Alert.objects.all())


def test_plain_rows_have_the_instances_values(patient):
    annotated = ROWS.annotate(Patient.objects.filter(pk=patient.pk)).get()
    instances, plain = ROWS.read(annotated), ROWS.read(annotated, plain=True)
    for name, objects in instances.items():
        defer = ("details",) if name == "alerts" else ()
        assert [values(o, defer) for o in objects] == [
            [(n, type(getattr(p, n)), getattr(p, n)) for n, _, _ in values(o, defer)]
            for o, p in zip(objects, plain[name], strict=True)], name
    assert not any(isinstance(o, Model) for rows in plain.values() for o in rows)
    assert [s.pathology and s.pathology.rcb_index for s in plain["surgeries"]] == [None, Decimal("1.25")]
    assert [v.recorded_by and v.recorded_by.username for v in plain["visits"]] == ["signer", None, "signer"]


def test_compiled_annotations_convert_filter_and_order_like_the_expressions(site):
    """`CompiledAnnotations` columns behave as the expressions they were compiled from."""
    def columns():
        studies = ImagingStudy.objects.filter(patient=OuterRef("pk"))
        return {"last": Subquery(studies.order_by("-study_date").values("study_date")[:1]),
                "n": Subquery(studies.values("patient").annotate(n=Count("id")).values("n"))}

    compiled = CompiledAnnotations(Patient, columns)
    busy = PatientFactory(site=site, family_name="Busy")
    quiet = PatientFactory(site=site, family_name="Quiet")
    for day in (date(2020, 1, 5), date(2021, 2, 6)):
        ImagingStudyFactory(patient=busy, study_date=day)
    rows = list(compiled.annotate(Patient.objects.all()).order_by("family_name")
                .values("family_name", "last", "n"))
    assert rows == [{"family_name": "Busy", "last": date(2021, 2, 6), "n": 2},
                    {"family_name": "Quiet", "last": None, "n": None}]
    assert list(compiled.annotate(Patient.objects.filter(pk=quiet.pk)).filter(last__isnull=True)) == [quiet]
    with pytest.raises(TypeError):
        compiled.annotate(ImagingStudy.objects.all())
