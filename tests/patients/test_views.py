import time
from datetime import date, timedelta

import pytest
from django.urls import reverse

from alerts.models import Alert
from patients.models import Pathology, Patient, Surgery
from surveillance.services.plans import plan_regenerate
from tests.browser.case_report import case_report_patient, patient_with_studies
from tests.patients.factories import (
    PathologyFactory,
    PatientFactory,
    SurgeryFactory,
    TumourProfileFactory,
)

pytestmark = pytest.mark.django_db


def alert(patient, rule="calc_new_group", severity="high", state="open", key="1"):
    return Alert.objects.create(patient=patient, rule=rule, severity=severity, state=state,
                                dedup_key=f"{patient.id}:{rule}:{key}", reason="New group L3")


@pytest.fixture
def staff_client(client, clinic_staff):
    client.force_login(clinic_staff)
    return client


def names(response):
    return [p["family_name"] for p in response.context["page"].object_list]


def search(client, q, **filters):
    """The list's search: POSTed (its words never in a URL), then the redirected page."""
    return client.post(reverse("patient-list"), {"q": q, **filters}, follow=True)


def test_pages_need_login(client, site):
    patient = PatientFactory(site=site)
    for url in (reverse("dashboard"), reverse("patient-list"), patient.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_list_shows_only_the_users_sites(staff_client, site, other_site):
    PatientFactory(site=site, family_name="Ours")
    PatientFactory(site=other_site, family_name="Theirs")
    assert names(staff_client.get(reverse("patient-list"))) == ["Ours"]


def test_list_search_by_name_or_mrn(staff_client, site):
    PatientFactory(site=site, family_name="Almeida", given_name="Rosa", mrn="A-100")
    PatientFactory(site=site, family_name="Brown", given_name="Ella", mrn="B-200")
    url = reverse("patient-list")
    assert url
    assert names(search(staff_client, "rosa alm")) == ["Almeida"]
    assert names(search(staff_client, "B-200")) == ["Brown"]


def test_list_filters_subtype_pcr_alert_and_follow_up(staff_client, site):
    a = PatientFactory(site=site, family_name="Aa")
    TumourProfileFactory(patient=a, er_percent=0, pr_percent=0, her2_ihc="0")  # triple negative
    PathologyFactory(surgery=SurgeryFactory(patient=a), ypt="ypT0", ypn="ypN0")
    b = PatientFactory(site=site, family_name="Bb", follow_up_status="lost_to_follow_up")
    TumourProfileFactory(patient=b)  # HR+/HER2+
    PathologyFactory(surgery=SurgeryFactory(patient=b), ypt="ypT2", ypn="ypN1")
    alert(b)
    PatientFactory(site=site, family_name="Cc")
    url = reverse("patient-list")
    assert names(staff_client.get(url, {"subtype": "triple_negative"})) == ["Aa"]
    assert names(staff_client.get(url, {"pcr": "yes"})) == ["Aa"]
    assert names(staff_client.get(url, {"pcr": "no"})) == ["Bb"]
    assert names(staff_client.get(url, {"pcr": "unknown"})) == ["Cc"]
    assert names(staff_client.get(url, {"alert": "yes"})) == ["Bb"]
    assert names(staff_client.get(url, {"alert": "no"})) == ["Aa", "Cc"]
    assert names(staff_client.get(url, {"follow_up_status": "lost_to_follow_up"})) == ["Bb"]


def test_list_sorts_and_paginates(staff_client, site):
    for i in range(30):
        PatientFactory(site=site, family_name=f"Name{i:02d}")
    url = reverse("patient-list")
    first = staff_client.get(url, {"sort": "-name"})
    assert names(first)[:2] == ["Name29", "Name28"] and len(names(first)) == 25
    second = staff_client.get(url, {"sort": "-name", "page": 2})
    assert names(second) == ["Name04", "Name03", "Name02", "Name01", "Name00"]
    assert b"sort=-name&amp;page=1" in second.content or b"page=1" in second.content


def test_list_sorts_by_open_alerts(staff_client, site):
    quiet = PatientFactory(site=site, family_name="Quiet")
    busy = PatientFactory(site=site, family_name="Busy")
    alert(busy, key="1")
    alert(busy, key="2", severity="medium")
    alert(quiet, key="3", state="acknowledged")
    response = staff_client.get(reverse("patient-list"), {"sort": "-alerts"})
    assert names(response) == ["Busy", "Quiet"]
    assert [p["open_alerts"] for p in response.context["page"].object_list] == [2, 0]


def test_list_rows_show_diagnosis_pcr_follow_up_last_study_and_alerts(staff_client, site):
    treated = PatientFactory(site=site, family_name="Aa", given_name="Ann", mrn="M-1")
    TumourProfileFactory(patient=treated, diagnosis_date=date(2014, 3, 2), er_percent=0, pr_percent=0,
                         her2_ihc="0")
    PathologyFactory(surgery=SurgeryFactory(patient=treated), ypt="ypT0", ypn="ypN0")
    alert(treated, key="1")
    PatientFactory(site=site, family_name="Bb", given_name="Bea", mrn="M-2")  # nothing recorded yet
    html = staff_client.get(reverse("patient-list")).content.decode()

    def row(name):
        start = html.rindex("<tr>", 0, html.index(f">{name}<"))
        return html[start:html.index("</tr>", start)]

    row_a, row_b = row("Aa, Ann"), row("Bb, Bea")
    assert f'href="{treated.get_absolute_url()}"' in row_a and "<td>M-1</td>" in row_a
    assert "Mar 2014 · Triple negative" in row_a and '<span class="badge ok">pCR</span>' in row_a
    assert "<td>Active</td>" in row_a and '<span class="badge high">1</span>' in row_a
    assert "not recorded" in row_b and '<span class="muted">–</span>' in row_b
    assert "<td>–</td>" in row_b and '<span class="muted">0</span>' in row_b


@pytest.mark.parametrize("studies", [5, 50])
def test_list_query_count_is_fixed(staff_client, site, studies, django_assert_max_num_queries):
    for _ in range(3):
        patient_with_studies(site, studies)
    with django_assert_max_num_queries(7):  # with the audit trail's record of the read
        response = staff_client.get(reverse("patient-list"), {"sort": "-last_study"})
    assert len(names(response)) == 3


def test_register_patient_then_tumour_profile(staff_client, site):
    response = staff_client.post(reverse("patient-create"), {
        "site": site.id, "mrn": "N-1", "given_name": "Ana", "family_name": "Lopes",
        "date_of_birth": "1970-01-02", "follow_up_status": "active"})
    patient = Patient.objects.get(mrn="N-1")
    assert response.url == reverse("patient-tumour", kwargs={"uuid": patient.uuid})
    response = staff_client.post(response.url, {
        "laterality": "left", "diagnosis_date": "2020-03-01", "histology": "IDC", "grade": "3",
        "er_percent": "0", "pr_percent": "0", "her2_ihc": "3+"})
    assert response.status_code == 302
    assert patient.tumour.subtype == "HR-/HER2+"


def test_bad_patient_input_shows_errors_in_place_and_saves_nothing(staff_client, site):
    PatientFactory(site=site, mrn="DUP")
    future = (date.today() + timedelta(days=3)).isoformat()
    response = staff_client.post(reverse("patient-create"), {
        "site": site.id, "mrn": "DUP", "given_name": "", "family_name": "X",
        "date_of_birth": future, "follow_up_status": "active"})
    form = response.context["form"]
    assert response.status_code == 200
    assert "given_name" in form.errors and "date_of_birth" in form.errors
    assert b'class="field-error"' in response.content
    assert Patient.objects.count() == 1


def test_tumour_percent_out_of_range_is_refused(staff_client, site):
    patient = PatientFactory(site=site)
    response = staff_client.post(reverse("patient-tumour", kwargs={"uuid": patient.uuid}), {
        "laterality": "left", "diagnosis_date": "2020-03-01", "histology": "IDC", "er_percent": "150"})
    assert "er_percent" in response.context["form"].errors
    assert not hasattr(Patient.objects.get(pk=patient.pk), "tumour")


def test_surgery_with_invalid_pathology_saves_neither(staff_client, site):
    patient = PatientFactory(site=site)
    url = reverse("patient-surgery-add", kwargs={"uuid": patient.uuid})
    data = {"date": "2020-09-01", "laterality": "left", "procedure": "BCS", "axilla": "SLNB",
            "path-ypt": "", "path-ypn": "ypN0", "path-pcr_definition": "ypT0is_ypN0",
            "path-excised_calcification_histology": "not_sampled"}
    response = staff_client.post(url, data)
    assert "ypt" in response.context["path_form"].errors
    assert not Surgery.objects.exists()
    response = staff_client.post(url, data | {"path-ypt": "ypTis"})
    assert response.status_code == 302
    assert Pathology.objects.get().pcr is True


def test_surgery_without_pathology_yet(staff_client, site):
    patient = PatientFactory(site=site)
    response = staff_client.post(reverse("patient-surgery-add", kwargs={"uuid": patient.uuid}), {
        "date": "2020-09-01", "laterality": "left", "procedure": "mastectomy", "axilla": "none",
        "path-pcr_definition": "ypT0is_ypN0", "path-excised_calcification_histology": "not_sampled"})
    assert response.status_code == 302
    assert Surgery.objects.count() == 1 and not Pathology.objects.exists()


def test_nac_end_before_start_is_refused(staff_client, site):
    patient = PatientFactory(site=site)
    response = staff_client.post(reverse("patient-nac-add", kwargs={"uuid": patient.uuid}), {
        "regimen": "AC", "start_date": "2020-05-01", "end_date": "2020-04-01"})
    assert "end_date" in response.context["form"].errors
    assert not patient.nac_courses.exists()


def test_log_visit_and_outcome_event(client, coordinator, clinic_staff, site):
    patient = PatientFactory(site=site)
    client.force_login(coordinator)
    response = client.post(reverse("patient-visit-add", kwargs={"uuid": patient.uuid}),
                           {"date": "2021-02-03", "kind": "clinical_exam", "findings": "No lump."})
    assert response.status_code == 302
    visit = patient.visits.get()
    assert visit.recorded_by == coordinator
    # Coordinators log visits but do not change treatment or outcome records.
    assert client.get(reverse("patient-event-add", kwargs={"uuid": patient.uuid})).status_code == 403
    client.force_login(clinic_staff)
    response = client.post(reverse("patient-event-add", kwargs={"uuid": patient.uuid}),
                           {"date": "2022-02-03", "kind": "local_recurrence"})
    assert response.status_code == 302 and patient.events.count() == 1


def test_coordinator_cannot_register_patients(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("patient-create")).status_code == 403


def test_outsider_gets_404_on_every_patient_url(client, outsider, site):
    patient = PatientFactory(site=site)
    surgery = SurgeryFactory(patient=patient)
    client.force_login(outsider)
    u = {"uuid": patient.uuid}
    urls = [reverse(name, kwargs=u) for name in (
        "patient-timeline", "patient-edit", "patient-records", "patient-tumour", "patient-surgery-add",
        "patient-nac-add", "patient-radiotherapy-add", "patient-visit-add", "patient-event-add",
        "study-create")]
    urls.append(reverse("patient-surgery-edit", kwargs=u | {"pk": surgery.pk}))
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url


def test_record_of_another_patient_is_404(staff_client, site):
    mine, other = PatientFactory(site=site), PatientFactory(site=site)
    surgery = SurgeryFactory(patient=other)
    url = reverse("patient-surgery-edit", kwargs={"uuid": mine.uuid, "pk": surgery.pk})
    assert staff_client.get(url).status_code == 404


def test_timeline_shows_the_case_report_in_words_and_chart(staff_client, site):
    patient = case_report_patient(site)
    response = staff_client.get(patient.get_absolute_url())
    content = response.content.decode()
    assert "Left breast: nadir 14 mm on 16 Mar 2016; stable since 16 Jul 2015 (23 mammograms)." in content
    assert "HR+/HER2+" in content and "pCR" in content and "RCB-0" in content
    figure = response.context["figure"]
    left = [t for t in figure["data"] if t["name"] == "Left breast calcifications"][0]
    assert len(left["x"]) == 3 + 24
    assert 'id="timeline-chart-data"' in content and "<script>" not in content
    assert len(response.context["study_rows"]) == 3 + 2 + 24 + 11  # 40 studies over ten years


def test_timeline_marks_open_alerts(staff_client, site):
    patient = patient_with_studies(site, 3)
    study = patient.studies.last()
    Alert.objects.create(patient=patient, rule="calc_extent_increase", severity="medium", breast="left",
                         study=study, dedup_key="k", reason="Extent grew 8 mm over the nadir")
    response = staff_client.get(patient.get_absolute_url())
    marks = [t for t in response.context["figure"]["data"] if t["name"] == "Open alert"][0]
    assert marks["x"] == [study.study_date.isoformat()]
    assert "Extent grew 8 mm over the nadir" in response.content.decode()


@pytest.mark.parametrize("studies", [5, 50])
def test_timeline_query_count_is_fixed(staff_client, site, studies, django_assert_max_num_queries):
    patient = patient_with_studies(site, studies)
    plan_regenerate(patient)
    # Session, user, roles; the patient with her plan, and one query per kind of row
    # (clinic.selectors.patient_timeline: 11); the audit record.
    with django_assert_max_num_queries(15):
        response = staff_client.get(patient.get_absolute_url())
    assert len(response.context["study_rows"]) == studies
    assert response.context["plan"].plan is not None and response.context["plan"].past


def test_dashboard_counts_open_alerts_of_the_users_sites(staff_client, site, other_site):
    mine = PatientFactory(site=site)
    alert(mine, key="1")
    alert(mine, key="2", severity="medium")
    alert(mine, key="3", state="acknowledged")
    alert(PatientFactory(site=other_site), key="4")
    response = staff_client.get(reverse("dashboard"))
    assert response.context["alert_counts"] == {"high": 1, "medium": 1}
    assert len(response.context["alerts"]) == 2


def test_timeline_of_a_new_patient_without_records(staff_client, site):
    patient = PatientFactory(site=site)
    response = staff_client.get(patient.get_absolute_url())
    content = response.content.decode()
    assert response.status_code == 200
    assert "record tumour profile" in content and "No imaging study recorded yet." in content
    texts = [a.get("text") for a in response.context["figure"]["layout"]["annotations"]]
    assert "No signed mammogram yet" in texts


def test_dashboard_lists_recent_studies_of_the_users_sites_only(staff_client, site, other_site):
    from tests.imaging.factories import ImagingStudyFactory

    mine = ImagingStudyFactory(patient=PatientFactory(site=site))
    ImagingStudyFactory(patient=PatientFactory(site=other_site))
    response = staff_client.get(reverse("dashboard"))
    assert [s.id for s in response.context["recent_studies"]] == [mine.id]
    assert [s.id for s in response.context["drafts"]] == [mine.id]


@pytest.mark.parametrize("q", [" ".join(["smith"] * 2000), "x" * 101, "a b c d e f"])
def test_an_unbounded_search_is_refused_at_once(staff_client, site, q, django_assert_max_num_queries):
    """2,000 words once cost 10 s of database time (a filter per word): now a field error,
    no search, a few queries."""
    PatientFactory(site=site, family_name="Smith")
    started = time.monotonic()
    with django_assert_max_num_queries(6):
        response = staff_client.post(reverse("patient-list"), {"q": q})
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    assert response.context["form"].errors["q"]
    assert names(response) == []


def test_a_search_within_the_limits_still_finds(staff_client, site):
    PatientFactory(site=site, family_name="Smith", given_name="Anna")
    response = search(staff_client, "anna smith")
    assert names(response) == ["Smith"]
