"""seed_demo: logins, idempotency, the case-report patient study by study, progressors."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.utils import timezone

from demo.seeding.accounts import DEMO_PASSWORD
from demo.seeding.course import VISIT_MONTHS, YEAR
from demo.seeding.demo import seed_demo
from demo.seeding.demo_roster import CASE_REPORT_MRN
from imaging.burden import nadir, post_treatment_series
from imaging.history import load_histories, load_history
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from outbox.models import Event
from patients.models import ClinicalEvent, ClinicVisit, Patient, Site

from .progression import extent_increases, progression_signals

pytestmark = pytest.mark.django_db

# docs/demo-data.md: the demo patients whose histories trip docs/clinical-rules.md's rules.
PROGRESSORS = {
    "NC-100002": {"calc_extent_increase", "calc_morphology_worse", "calc_reported_increase",
                  "birads_suspicious"},
    "NC-100003": {"calc_new_group", "birads_suspicious"},
    "NC-100004": {"mri_new_enhancement", "mri_washout", "birads_suspicious"},
    "NC-100005": {"calc_count_increase", "calc_reported_increase", "birads_suspicious"},
    "NC-100006": {"calc_extent_increase"},
    "SC-200001": {"mri_enhancement_growth", "birads_suspicious"},
    "SC-200002": {"calc_extent_increase", "calc_morphology_worse", "birads_suspicious"},
}


def _counts() -> dict[str, int]:
    models = (Site, Patient, ImagingStudy, CalcificationFinding, EnhancementFinding, ClinicVisit,
              ClinicalEvent, Event, get_user_model())
    return {m.__name__: m.objects.count() for m in models}


def test_seed_demo_twice_changes_nothing_and_creates_one_login_per_role():
    first = StringIO()
    call_command("seed_demo", stdout=first)
    counts = _counts()
    hashes = dict(get_user_model().objects.values_list("username", "password"))
    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert _counts() == counts
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes
    assert counts["Site"] == 2 and counts["Patient"] >= 40
    assert "nothing changed" in second.getvalue()
    out = first.getvalue()
    assert "Helen Marsh, MRN NC-100001" in out
    for username in ("staff", "radiologist", "coordinator", "admin", "radiologist2", "coordinator2"):
        assert username in out
    assert DEMO_PASSWORD in out

    # One login per role, each seeing its own site only.
    north, south = Site.objects.get(code="north"), Site.objects.get(code="south")
    expected = {"staff": ("clinic_staff", north), "radiologist": ("radiologist", north),
                "coordinator": ("coordinator", north), "admin": ("admin", north),
                "radiologist2": ("radiologist", south), "coordinator2": ("coordinator", south)}
    for username, (role, site) in expected.items():
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert list(user.sites.all()) == [site]
        assert user.is_staff == (username == "admin")
        assert not user.is_superuser
    assert north.patients.count() >= 20 and south.patients.count() >= 15


def test_case_report_patient_timeline():
    seed_demo()
    today = timezone.localdate()
    patient = Patient.objects.select_related("tumour").get(mrn=CASE_REPORT_MRN)
    tumour, surgery = patient.tumour, patient.surgeries.get()
    # 48 at diagnosis; grade 3 IDC with DCIS (comedo necrosis), ER 50 / PR 0 / HER2 3+.
    assert patient.age_on(tumour.diagnosis_date) == 48
    assert (tumour.histology, tumour.grade, tumour.dcis_component, tumour.comedo_necrosis) == (
        "IDC", 3, True, True)
    assert (tumour.er_percent, tumour.pr_percent, tumour.her2_ihc, tumour.subtype) == (
        50, 0, "3+", "HR+/HER2+")
    courses = list(patient.nac_courses.values_list("regimen", "cycles"))
    assert courses == [("AC", 4), ("paclitaxel + trastuzumab", 12)]
    # Surgery ~10 years 2 months ago: BCS + ALND, pCR, RCB 0, excised calcifications benign.
    assert 121 <= (today - surgery.date).days / (YEAR / 12) <= 123
    assert (surgery.procedure, surgery.axilla, surgery.residual_calcifications_in_place) == (
        "BCS", "ALND", True)
    path = surgery.pathology
    assert (path.ypt, path.ypn, path.pcr, path.rcb_class, path.excised_calcification_histology) == (
        "ypT0", "ypN0", True, "0", "benign")
    assert patient.radiotherapy.count() == 1

    history = load_history(patient.id)
    phases = [(s.modality, s.phase) for s in history.studies]
    assert phases[:6] == [("MG", "baseline"), ("MR", "baseline"), ("MG", "mid_nac"),
                          ("MR", "mid_nac"), ("MG", "post_nac"), ("MR", "post_nac")]
    assert all(s.is_final for s in history.studies)
    assert {s for s in ImagingStudy.objects.filter(patient=patient).values_list(
        "signed_by__username", flat=True)} == {"radiologist"}
    dx, dx_mr = history.studies[0], history.studies[1]
    assert (dx.calcifications[0].morphology, dx.calcifications[0].distribution,
            dx.calcifications[0].extent_mm, dx.calcifications[0].count_bin) == (
        "fine_pleomorphic", "segmental", 60.0, ">20")
    assert (dx_mr.enhancements[0].lesion_type, dx_mr.enhancements[0].kinetics_delayed) == ("nme", "washout")
    post_mg, post_mr = history.studies[4], history.studies[5]
    assert post_mg.calcifications[0].extent_mm >= 50  # still extensive after NAC
    assert post_mr.no_enhancement and not post_mr.enhancements  # MRI complete response

    surveillance = [s for s in history.studies if s.phase == "surveillance"]
    annual = [s for s in surveillance if s.modality == "MG" and s.laterality == "bilateral"]
    mris = [s for s in surveillance if s.modality == "MR"]
    assert len(annual) == 10 and len(mris) == 10
    assert all(m.no_enhancement and not m.enhancements for m in mris)
    assert max(s.study_date for s in surveillance) >= today - timedelta(days=60)
    assert all(s.birads not in {"4", "4A", "4B", "4C", "5"} for s in surveillance)

    series = post_treatment_series(history, "left")
    assert len(series) == 12 and series[0].study_date > history.rt_end_date
    low = nadir(series)
    assert series[0].extent_mm > series[3].extent_mm > low.extent_mm  # decreased after surgery
    # No exam exceeds the nadir seen before it by >= 5 mm and >= 20%, nor the overall nadir after it.
    assert extent_increases(history, "left") == []
    after = [b for b in series if b.study_date > low.study_date]
    assert after and all(b.extent_mm - low.extent_mm < 5 or b.extent_mm < 1.2 * low.extent_mm for b in after)
    assert all(b.extent_mm - low.extent_mm <= 0.5 for b in series[4:])  # then stable
    codes = [c.observed_change for s in surveillance for c in s.calcifications]
    assert codes[0] == "partially_removed" and "decrease_size" in codes
    assert set(codes[4:]) <= {"stable", "not_significantly_changed"}
    assert {c.group for s in surveillance for c in s.calcifications} == {"L1"}
    assert progression_signals(history) == set()

    visits = patient.visits.filter(kind="clinical_exam").order_by("date")
    assert visits.count() == len(VISIT_MONTHS) == 17


def test_demo_progressors_progress_and_the_others_do_not():
    seed_demo()
    patients = {p.id: p for p in Patient.objects.filter(site__code__in=["north", "south"])}
    histories = load_histories(patients)
    fired = {patients[i].mrn: progression_signals(h) for i, h in histories.items()}
    assert {mrn for mrn, rules in fired.items() if rules} == set(PROGRESSORS)
    for mrn, rules in PROGRESSORS.items():
        assert rules <= fired[mrn], mrn
    by_mrn = {patients[i].mrn: h for i, h in histories.items()}
    # Extent +15 mm with fine-linear branching calcifications in year 5-6.
    grace = by_mrn["NC-100002"]
    (extent, low), = extent_increases(grace, "left")
    assert extent - low >= 15
    last = grace.mammograms()[-1]
    assert 5 <= (last.study_date - grace.surgery_date).days / YEAR <= 6
    assert last.calcifications[0].morphology == "fine_linear_branching"
    # Slow creep: each exam a little larger, only the nadir comparison sees it.
    (extent, low), = extent_increases(by_mrn["NC-100006"], "left")
    assert extent - low >= 5 and extent >= 1.2 * low
    # Year-7 MRI with new NME and washout.
    mri = by_mrn["NC-100004"].mris()[-1]
    assert 6.5 <= (mri.study_date - by_mrn["NC-100004"].surgery_date).days / YEAR <= 7.5
    assert mri.enhancements[0].lesion_type == "nme" and mri.birads == "4C"
    # The near miss (+4 mm over the nadir) stays below the rule.
    assert extent_increases(by_mrn["NC-100007"], "right") == []
    assert by_mrn["NC-100003"].mammograms()[-1].calcifications[-1].inside_tumor_bed is False
    assert any(s.birads == "4B" for s in by_mrn["NC-100005"].mammograms())


def test_outbox_drafts_overdue_events_and_validation():
    seed_demo()
    final = ImagingStudy.objects.filter(status="final")
    assert set(Event.objects.values_list("object_id", flat=True)) == set(final.values_list("id", flat=True))
    assert Event.objects.count() == final.count()
    assert not final.model.objects.filter(status="draft", id__in=Event.objects.values("object_id")).exists()
    drafts = ImagingStudy.objects.filter(status="draft")
    assert drafts.count() >= 3 and not drafts.filter(signed_by__isnull=False).exists()
    today = timezone.localdate()
    for mrn in ("NC-100009", "SC-200004"):  # missed their last exams
        last = ImagingStudy.objects.filter(patient__mrn=mrn).latest("study_date").study_date
        assert (today - last).days > 400, mrn
    assert Patient.objects.get(mrn="SC-200004").follow_up_status == "lost_to_follow_up"
    kinds = set(ClinicalEvent.objects.values_list("kind", flat=True))
    assert {"local_recurrence", "distant_recurrence", "regional_recurrence", "death"} <= kinds
    assert Patient.objects.get(mrn="NC-100010").follow_up_status == "deceased"
    subtypes = set(Patient.objects.values_list("tumour__subtype", flat=True))
    assert subtypes == {"HR+/HER2-", "HR+/HER2+", "HR-/HER2+", "triple_negative"}
    assert set(Patient.objects.values_list("surgeries__procedure", flat=True)) == {"BCS", "mastectomy"}
    assert Patient.objects.filter(pathogenic_variant=True).exists()
    assert set(Patient.objects.values_list("surgeries__pathology__pcr", flat=True)) == {True, False}
    names = list(Patient.objects.values_list("given_name", "family_name"))
    assert len(set(names)) == len(names)
    # Everything passes the models' own validation, constraints included.
    for study in final.select_related("patient")[::7]:
        study.full_clean()
    for model in (CalcificationFinding, EnhancementFinding):
        for finding in model.objects.all()[::3]:
            finding.full_clean()
    for patient in Patient.objects.all():
        patient.full_clean()
