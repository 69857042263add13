import csv
import io
from datetime import date

import pytest
from rest_framework.renderers import JSONRenderer

from alerts.services import alert_raise
from api.serializers.timeline import TimelineSerializer
from api.timeline import patient_timeline
from imaging.records import with_records
from patients.models import Patient
from tests.browser.case_report import patient_with_studies
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import (
    PathologyFactory,
    PatientFactory,
    RadiotherapyFactory,
    SurgeryFactory,
    TumourProfileFactory,
)


def raise_alert(patient, rule="calc_extent_increase", severity="medium", trigger="study:1",
                breast="left"):
    return alert_raise(patient_id=patient.id, rule=rule, severity=severity, breast=breast,
                       trigger=trigger, reason="Extent grew.")[0]


def test_alert_list_is_scoped_and_filterable(api_client, radiologist, outsider, site):
    mine = PatientFactory(site=site)
    high = raise_alert(mine, rule="birads_suspicious", severity="high", trigger="study:2")
    raise_alert(mine)
    raise_alert(PatientFactory(site=outsider.sites.get()), trigger="study:9")
    client = api_client(radiologist)
    body = client.get("/api/alerts/").json()
    assert body["count"] == 2
    assert body["results"][0]["patient"] == str(mine.uuid)
    only = client.get("/api/alerts/?severity=high").json()["results"]
    assert [a["id"] for a in only] == [high.id]
    assert client.get(f"/api/alerts/?patient={mine.uuid}&state=open").json()["count"] == 2
    assert client.get("/api/alerts/?rule=calc_new_group").json()["count"] == 0
    assert client.get("/api/alerts/?severity=extreme").status_code == 400
    assert api_client(outsider).get(f"/api/alerts/{high.id}/").status_code == 404


def test_alerts_are_read_only_here(api_client, radiologist, site):
    alert = raise_alert(PatientFactory(site=site))
    client = api_client(radiologist)
    assert client.post("/api/alerts/", {}, format="json").status_code == 405
    assert client.patch(f"/api/alerts/{alert.id}/", {"state": "resolved"},
                        format="json").status_code == 405


@pytest.mark.parametrize("rows", [5, 50])
def test_alert_list_query_count_is_constant(api_client, radiologist, site, rows,
                                            django_assert_max_num_queries):
    patient = PatientFactory(site=site)
    for i in range(rows):
        raise_alert(patient, trigger=f"study:{i}")
    client = api_client(radiologist)
    with django_assert_max_num_queries(7):
        assert client.get("/api/alerts/").json()["count"] == rows


@pytest.fixture
def treated(site):
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient)
    SurgeryFactory(patient=patient, date=date(2014, 10, 6))
    RadiotherapyFactory(patient=patient, end_date=date(2014, 12, 19))
    for day, extent in ((date(2014, 9, 1), 60), (date(2015, 6, 1), 38), (date(2016, 6, 1), 36),
                        (date(2017, 6, 1), 37)):
        phase = "post_nac" if day.year == 2014 else "surveillance"
        study = ImagingStudyFactory(patient=patient, study_date=day, phase=phase, final=True)
        CalcificationFindingFactory(study=study, group="L1", extent_mm=extent)
    mr = ImagingStudyFactory(patient=patient, modality="MR", birads="2", final=True,
                             study_date=date(2016, 1, 10))
    EnhancementFindingFactory(study=mr, lesion="E1", size_mm=5)
    ImagingStudyFactory(patient=patient, study_date=date(2018, 6, 1))  # a draft: not plotted
    return patient


def test_timeline_has_burden_series_nadir_and_mri(api_client, coordinator, treated):
    body = api_client(coordinator).get(f"/api/patients/{treated.uuid}/timeline/").json()
    left = next(b for b in body["breasts"] if b["breast"] == "left")
    assert [p["extent_mm"] for p in left["series"]] == [60.0, 38.0, 36.0, 37.0]
    assert [p["post_treatment"] for p in left["series"]] == [False, True, True, True]
    assert left["nadir"]["extent_mm"] == 36.0 and left["nadir"]["study_date"] == "2016-06-01"
    right = next(b for b in body["breasts"] if b["breast"] == "right")
    assert [p["extent_mm"] for p in right["series"]] == [0.0] * 4
    assert [p["groups"] for p in right["series"]] == [0] * 4
    assert right["nadir"] is None  # absence is not zero: no calcifications, no nadir
    assert body["treatment_end"] == "2014-12-19"
    assert {t["kind"] for t in body["treatments"]} >= {"surgery", "radiotherapy_end"}
    assert body["mri"][0]["lesions"][0]["lesion"] == "E1"


def test_timeline_is_scoped(api_client, outsider, treated):
    assert api_client(outsider).get(f"/api/patients/{treated.uuid}/timeline/").status_code == 404


def test_timeline_body_is_exactly_what_its_serializer_renders(api_client, coordinator, treated):
    """The view skips TimelineSerializer's pass; the bytes (so key order, 0.0 not 0, ISO dates)
    are those the serializer would give."""
    response = api_client(coordinator).get(f"/api/patients/{treated.uuid}/timeline/")
    patient = with_records(Patient.objects.filter(pk=treated.pk)).get()
    assert response.content == JSONRenderer().render(TimelineSerializer(patient_timeline(patient)).data)
    assert b'"extent_mm":0.0' in response.content  # the right breast, never calcified


@pytest.mark.parametrize("studies", [5, 50])
def test_timeline_query_count_is_constant(api_client, coordinator, site, studies,
                                          django_assert_max_num_queries):
    patient = patient_with_studies(site, studies)
    client = api_client(coordinator)
    # Token and user; the user's roles (no role, no data); the patient and her rows (one
    # query per table: studies, two kinds of findings, surgeries, RT, NAC); the audit record.
    with django_assert_max_num_queries(10):
        body = client.get(f"/api/patients/{patient.uuid}/timeline/").json()
    left = next(b for b in body["breasts"] if b["breast"] == "left")
    assert len(left["series"]) == studies


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_patient_csv_export_is_streamed_from_a_constant_number_of_queries(
        api_client, coordinator, site, django_assert_max_num_queries):
    """4,015 patients once took 8,028 queries (two a patient); now one query for the rows."""
    client = api_client(coordinator)

    def export() -> list[dict]:
        response = client.get("/api/patients/export.csv/")
        assert response.streaming
        return rows_of(response)

    for _n in range(3):
        PathologyFactory(surgery=SurgeryFactory(patient=PatientFactory(site=site)))
    with django_assert_max_num_queries(8) as few:
        assert len(export()) == 3
    for _n in range(30):
        patient = PatientFactory(site=site)
        TumourProfileFactory(patient=patient)
        PathologyFactory(surgery=SurgeryFactory(patient=patient))
        ImagingStudyFactory(patient=patient)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(export()) == 33


def test_patient_csv_export_follows_filters_and_scope(api_client, coordinator, site, other_site):
    a = PatientFactory(site=site, family_name="=HYPERLINK(1)")
    TumourProfileFactory(patient=a)
    PathologyFactory(surgery=SurgeryFactory(patient=a))
    ImagingStudyFactory(patient=a)
    b = PatientFactory(site=site, follow_up_status="completed")
    PatientFactory(site=other_site)
    client = api_client(coordinator)
    response = client.get("/api/patients/export.csv/")
    assert response["Content-Type"].startswith("text/csv")
    rows = rows_of(response)
    assert {r["uuid"] for r in rows} == {str(a.uuid), str(b.uuid)}
    row = next(r for r in rows if r["uuid"] == str(a.uuid))
    assert row["subtype"] == "HR+/HER2+" and row["pcr"] == "yes" and row["studies"] == "1"
    assert row["family_name"] == "'=HYPERLINK(1)"  # no formula injection
    only = rows_of(client.get("/api/patients/export.csv/?follow_up_status=completed"))
    assert [r["uuid"] for r in only] == [str(b.uuid)]


def test_findings_csv(api_client, coordinator, outsider, treated):
    url = f"/api/patients/{treated.uuid}/findings.csv/"
    response = api_client(coordinator).get(url)
    assert str(treated.uuid) in response["Content-Disposition"]
    assert treated.mrn not in response["Content-Disposition"]
    rows = rows_of(response)
    assert [r["finding"] for r in rows].count("calcification") == 4
    assert [r["finding"] for r in rows].count("enhancement") == 1
    assert rows[0]["study_date"] == "2014-09-01" and rows[0]["extent_mm"] == "60.0"
    assert api_client(outsider).get(url).status_code == 404
