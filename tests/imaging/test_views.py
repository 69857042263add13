from datetime import date

import pytest
from django.urls import reverse

from imaging.forms import CalcificationFormSet, StudyForm, apply_service_errors
from imaging.models import CalcificationFinding, ImagingStudy, StudyAmendment
from imaging.services import StudyValidationError
from outbox.models import Event
from tests.imaging.factories import CalcificationFindingFactory, ImagingStudyFactory
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, date_of_birth=date(1966, 5, 14))


def management(prefix, total, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def calc_row(i, group, **kw):
    row = {"group": group, "laterality": "left", "morphology": "fine_pleomorphic",
           "distribution": "segmental", "extent_mm": "12", "count_bin": "11-20",
           "observed_change": "stable", "inside_tumor_bed": "True", "quadrant": "UOQ", "clock": "2"}
    row.update(kw)
    return {f"calc-{i}-{k}": v for k, v in row.items() if v is not None}


def mammogram_post(*rows, **study):
    data = {"study_date": "2021-03-04", "phase": "surveillance", "laterality": "bilateral",
            "birads": "2", "breast_composition": "c", "report_text": ""} | study
    data |= management("calc", len(rows))
    for i, row in enumerate(rows):
        data |= calc_row(i, **row)
    return data


def create_url(patient, modality="MG"):
    return reverse("study-create", kwargs={"uuid": patient.uuid}) + f"?modality={modality}"


def test_new_mammogram_with_two_groups(client, clinic_staff, patient):
    client.force_login(clinic_staff)
    response = client.post(create_url(patient), mammogram_post({"group": "L1"},
                                                               {"group": "L2", "extent_mm": "4",
                                                                "count": "3", "count_bin": ""}))
    assert response.status_code == 302 and response.url == patient.get_absolute_url()
    study = ImagingStudy.objects.get()
    assert (study.modality, study.status, study.created_by) == ("MG", "draft", clinic_staff)
    rows = {c.group: c for c in study.calcifications.all()}
    assert sorted(rows) == ["L1", "L2"]
    assert rows["L2"].count_bin == "1-5"  # derived from the exact count


def test_empty_extra_rows_are_ignored(client, clinic_staff, patient):
    client.force_login(clinic_staff)
    data = mammogram_post({"group": "L1"}) | management("calc", 2) | {"calc-1-inside_tumor_bed": "True"}
    assert client.post(create_url(patient), data).status_code == 302
    assert CalcificationFinding.objects.count() == 1


def test_one_invalid_row_saves_nothing_and_shows_the_error_on_that_row(client, clinic_staff, patient):
    client.force_login(clinic_staff)
    response = client.post(create_url(patient), mammogram_post(
        {"group": "L1"}, {"group": "L2", "clock": "15", "morphology": "blob"}))
    assert response.status_code == 200
    rows = response.context["calcs"].forms
    assert rows[0].errors == {}
    assert "clock" in rows[1].errors and "morphology" in rows[1].errors
    assert b"Nothing was saved" in response.content
    assert not ImagingStudy.objects.exists() and not CalcificationFinding.objects.exists()


def test_service_errors_land_on_the_right_row_and_field(client, clinic_staff, patient):
    """Errors only the service sees (cross-row, study vs finding) are shown in place too."""
    client.force_login(clinic_staff)
    response = client.post(create_url(patient), mammogram_post(
        {"group": "R1", "laterality": "right"}, laterality="left"))
    assert response.status_code == 200
    assert "A right finding cannot be on a left study." in response.context["form"].non_field_errors()
    response = client.post(create_url(patient), mammogram_post({"group": "L1"}, {"group": "L1"}))
    assert "The calcification group left L1 is listed twice." in response.context["form"].non_field_errors()
    assert not ImagingStudy.objects.exists()


def test_row_forms_offer_every_field_the_service_saves():
    from imaging.forms import CalcificationForm, EnhancementForm
    from imaging.services import CALC_FIELDS, ENH_FIELDS

    assert set(CalcificationForm._meta.fields) == set(CALC_FIELDS)
    assert set(EnhancementForm._meta.fields) == set(ENH_FIELDS)


def test_apply_service_errors_maps_row_indexes_to_the_filled_rows(patient):
    study = ImagingStudy(patient=patient, modality="MG")
    form = StudyForm(mammogram_post(), instance=study)
    data = mammogram_post({"group": "L1"}, {"group": "L2"})
    formset = CalcificationFormSet(data, prefix="calc")
    assert form.is_valid() and formset.is_valid()
    exc = StudyValidationError({"study_date": ["Too early."]}, {1: {"extent_mm": ["Too big."]}}, {},
                               ["Something across rows."])
    apply_service_errors(exc, form, formset.rows(), [])
    assert form.errors["study_date"] == ["Too early."]
    assert formset.forms[1].errors["extent_mm"] == ["Too big."] and not formset.forms[0].errors
    assert "Something across rows." in form.non_field_errors()


def test_study_before_birth_is_a_field_error(client, clinic_staff, patient):
    client.force_login(clinic_staff)
    response = client.post(create_url(patient), mammogram_post({"group": "L1"}, study_date="1960-01-01"))
    assert "study_date" in response.context["form"].errors
    assert not ImagingStudy.objects.exists()


def test_mri_with_lesion_and_no_enhancement_mri(client, radiologist, patient):
    client.force_login(radiologist)
    base = {"study_date": "2021-03-04", "phase": "surveillance", "laterality": "bilateral", "birads": "1",
            "bpe": "mild"}
    response = client.post(create_url(patient, "MR"), base | {"no_enhancement": "on"} | management("enh", 1))
    assert response.status_code == 302
    data = base | management("enh", 1) | {"enh-0-lesion": "E1", "enh-0-laterality": "left",
                                          "enh-0-lesion_type": "mass", "enh-0-size_mm": "9",
                                          "enh-0-kinetics_delayed": "washout", "sign": "1"}
    response = client.post(create_url(patient, "MR"), data)
    assert response.status_code == 302
    signed = ImagingStudy.objects.get(status="final")
    assert signed.enhancements.get().kinetics_delayed == "washout" and signed.signed_by == radiologist


def test_earlier_group_labels_are_offered(client, clinic_staff, patient):
    CalcificationFindingFactory(study=ImagingStudyFactory(patient=patient), group="L-UOQ", laterality="left")
    client.force_login(clinic_staff)
    content = client.get(create_url(patient)).content.decode()
    assert 'list="earlier-groups"' in content
    assert '<option value="L-UOQ">' in content


def test_radiologist_signs_a_draft(client, radiologist, patient):
    study = ImagingStudyFactory(patient=patient)
    client.force_login(radiologist)
    response = client.post(reverse("study-sign", kwargs={"uuid": study.uuid}))
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.status == "final" and study.signed_by == radiologist
    assert Event.objects.filter(object_id=study.id).count() == 1


def test_non_radiologists_cannot_see_or_post_sign_and_amend(client, clinic_staff, patient):
    draft = ImagingStudyFactory(patient=patient)
    final = ImagingStudyFactory(patient=patient, final=True, study_date=date(2017, 1, 1))
    client.force_login(clinic_staff)
    page = client.get(reverse("study-detail", kwargs={"uuid": draft.uuid})).content.decode()
    assert "Sign study" not in page and reverse("study-sign", kwargs={"uuid": draft.uuid}) not in page
    page = client.get(reverse("study-detail", kwargs={"uuid": final.uuid})).content.decode()
    assert reverse("study-amend", kwargs={"uuid": final.uuid}) not in page
    assert "Save and sign" not in client.get(create_url(patient)).content.decode()
    assert client.post(reverse("study-sign", kwargs={"uuid": draft.uuid})).status_code == 403
    assert client.get(reverse("study-amend", kwargs={"uuid": final.uuid})).status_code == 403
    assert client.post(reverse("study-amend", kwargs={"uuid": final.uuid}), {}).status_code == 403
    # "Save and sign" posted by clinic staff only saves a draft.
    client.post(create_url(patient), mammogram_post({"group": "L1"}) | {"sign": "1"})
    assert ImagingStudy.objects.get(study_date=date(2021, 3, 4)).status == "draft"
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_editing_a_draft_replaces_its_rows(client, clinic_staff, patient):
    study = ImagingStudyFactory(patient=patient)
    CalcificationFindingFactory(study=study, group="L1")
    client.force_login(clinic_staff)
    url = reverse("study-edit", kwargs={"uuid": study.uuid})
    page = client.get(url)
    assert page.context["calcs"].initial_form_count() == 1
    data = mammogram_post({"group": "L1", "extent_mm": "9"}, {"group": "L7"})
    data |= management("calc", 2, initial=1)
    assert client.post(url, data).status_code == 302
    assert sorted(study.calcifications.values_list("group", "extent_mm")) == [("L1", 9), ("L7", 12)]


def test_final_study_cannot_be_edited_as_a_draft(client, clinic_staff, patient):
    study = ImagingStudyFactory(patient=patient, final=True)
    client.force_login(clinic_staff)
    response = client.post(reverse("study-edit", kwargs={"uuid": study.uuid}), mammogram_post())
    assert response.status_code == 302
    assert response.url == reverse("study-detail", kwargs={"uuid": study.uuid})


def test_amendment_needs_a_reason_and_is_kept_with_what_changed(client, radiologist, patient):
    study = ImagingStudyFactory(patient=patient, final=True, study_date=date(2021, 3, 4), birads="2",
                                breast_composition="c")
    CalcificationFindingFactory(study=study, group="L1", extent_mm=12, count_bin="11-20",
                                observed_change="stable")
    client.force_login(radiologist)
    url = reverse("study-amend", kwargs={"uuid": study.uuid})
    data = mammogram_post({"group": "L1", "extent_mm": "15", "observed_change": "increase_size",
                           "quadrant": "", "clock": ""}) | management("calc", 1, initial=1)
    response = client.post(url, data | {"reason": "  "})
    assert "reason" in response.context["amend_form"].errors
    assert not StudyAmendment.objects.exists()
    response = client.post(url, data | {"reason": "Remeasured on magnified views."})
    assert response.status_code == 302
    amendment = StudyAmendment.objects.get()
    assert amendment.amended_by == radiologist
    detail = client.get(reverse("study-detail", kwargs={"uuid": study.uuid})).content.decode()
    assert "Remeasured on magnified views." in detail
    assert "Group L1 left: extent (mm) 12.0 → 15.0" in detail
    assert "Group L1 left: change Stable → Increase in size" in detail


def test_amendment_without_changes_records_nothing(client, radiologist, patient):
    study = ImagingStudyFactory(patient=patient, final=True, study_date=date(2021, 3, 4), birads="2",
                                breast_composition="c")
    client.force_login(radiologist)
    data = mammogram_post() | {"reason": "Checking."}
    response = client.post(reverse("study-amend", kwargs={"uuid": study.uuid}), data)
    assert response.status_code == 302 and not StudyAmendment.objects.exists()


def test_outsider_gets_404_on_every_study_url(client, outsider, patient):
    study = ImagingStudyFactory(patient=patient, final=True)
    client.force_login(outsider)
    for name in ("study-detail", "study-edit", "study-sign", "study-amend"):
        url = reverse(name, kwargs={"uuid": study.uuid})
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {}).status_code == 404, url
