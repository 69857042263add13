"""seed_cohort: reproducible, realistic proportions, leaves the demo alone, valid rows."""

import random
from collections import Counter
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from demo.seeding.cohort import CohortExists, seed_cohort
from demo.seeding.course import build_plan
from demo.seeding.fastwrite import delete_patients, write_plans_fast
from demo.seeding.sampling import sample_course
from demo.seeding.writer import Target, write_plans
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from imaging.vocabulary import MORPHOLOGY_RANK
from outbox.models import Event
from patients.models import ClinicalEvent, ClinicVisit, NacCourse, Pathology, Patient, Site
from tests.demo.progression import history_of_plan, progression_signals
from tests.patients.factories import SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

AS_OF = date.today() - timedelta(days=3)


def _snapshot() -> dict:
    """The cohort's clinical values, without ids, uuids or timestamps."""
    cohort = Patient.objects.filter(site__code__startswith="cohort-")
    return {
        "patients": sorted(cohort.values_list("site__code", "mrn", "given_name", "family_name",
                                              "date_of_birth", "follow_up_status", "tumour__subtype",
                                              "tumour__er_percent", "tumour__her2_ihc")),
        "pathology": sorted(Pathology.objects.filter(surgery__patient__in=cohort).values_list(
            "surgery__patient__mrn", "surgery__date", "ypt", "ypn", "pcr", "rcb_index",
            "excised_calcification_histology")),
        "studies": sorted(ImagingStudy.objects.filter(patient__in=cohort).values_list(
            "patient__mrn", "study_date", "modality", "phase", "laterality", "birads", "status",
            "no_enhancement")),
        "calcs": sorted(CalcificationFinding.objects.filter(study__patient__in=cohort).values_list(
            "study__patient__mrn", "study__study_date", "group", "morphology", "extent_mm",
            "count_bin", "observed_change")),
        "visits": ClinicVisit.objects.filter(patient__in=cohort).count(),
        "events": sorted(ClinicalEvent.objects.filter(patient__in=cohort).values_list(
            "patient__mrn", "date", "kind")),
    }


def test_same_seed_same_cohort_other_seed_other_cohort_and_no_duplicates():
    call_command("seed_cohort", patients=80, seed=7, sites=2, as_of=AS_OF.isoformat(), quiet=True,
                 stdout=StringIO())
    first = _snapshot()
    assert len(first["patients"]) == 80
    assert {p[0] for p in first["patients"]} == {"cohort-1", "cohort-2"}
    with pytest.raises(CommandError, match="--replace"):
        call_command("seed_cohort", patients=80, seed=7, sites=2, quiet=True, stdout=StringIO())
    assert _snapshot() == first
    call_command("seed_cohort", patients=80, seed=7, sites=2, as_of=AS_OF.isoformat(), quiet=True,
                 replace=True, stdout=StringIO())
    assert _snapshot() == first
    seed_cohort(n=80, seed=8, sites=2, today=AS_OF, replace=True)
    other = _snapshot()
    assert len(other["patients"]) == 80 and other != first
    assert other["studies"] != first["studies"]


def test_cohort_leaves_demo_logins_and_patients_alone():
    call_command("seed_demo", stdout=StringIO())
    users = dict(get_user_model().objects.values_list("username", "password"))
    demo = sorted(Patient.objects.values_list("mrn", "updated_at"))
    demo_studies = ImagingStudy.objects.count()
    outbox = Event.objects.count()
    seed_cohort(n=30, seed=1, sites=1)
    seed_cohort(n=20, seed=2, sites=1, replace=True)
    after = dict(get_user_model().objects.values_list("username", "password"))
    assert {u: after[u] for u in users} == users
    assert set(after) - set(users) == {"cohort-radiologist"}
    assert not get_user_model().objects.get(username="cohort-radiologist").has_usable_password()
    assert sorted(Patient.objects.exclude(site__code__startswith="cohort-").values_list(
        "mrn", "updated_at")) == demo
    assert ImagingStudy.objects.exclude(patient__site__code__startswith="cohort-").count() == demo_studies
    assert Patient.objects.filter(site__code="cohort-1").count() == 20
    assert Event.objects.count() == outbox  # the cohort writes no outbox rows


def test_proportions_of_a_2000_patient_cohort():
    seed_cohort(n=2000, seed=2026, sites=1, today=AS_OF)
    cohort = Patient.objects.filter(site__code="cohort-1")
    subtype = dict(cohort.values_list("id", "tumour__subtype"))
    pcr = dict(Pathology.objects.filter(surgery__patient__in=cohort).values_list(
        "surgery__patient_id", "pcr"))
    assert len(subtype) == len(pcr) == 2000
    share = Counter(subtype.values())
    assert set(share) == {"HR+/HER2-", "HR+/HER2+", "HR-/HER2+", "triple_negative"}  # never unknown
    assert 0.34 <= share["HR+/HER2-"] / 2000 <= 0.42
    assert 0.17 <= share["HR+/HER2+"] / 2000 <= 0.23
    assert 0.12 <= share["HR-/HER2+"] / 2000 <= 0.18
    assert 0.23 <= share["triple_negative"] / 2000 <= 0.31
    rates = {s: sum(pcr[i] for i in subtype if subtype[i] == s) / share[s] for s in share}
    assert 0.07 <= rates["HR+/HER2-"] <= 0.17
    assert 0.32 <= rates["HR+/HER2+"] <= 0.48
    assert 0.52 <= rates["HR-/HER2+"] <= 0.68
    assert 0.32 <= rates["triple_negative"] <= 0.48

    post = ImagingStudy.objects.filter(patient__in=cohort, phase="post_nac")
    mri_pos = dict(post.filter(modality="MR").values_list("patient_id", "no_enhancement"))
    mri_pos = {i: not none for i, none in mri_pos.items()}
    suspicious = {m for m, rank in MORPHOLOGY_RANK.items() if rank >= 1}
    mg_pos = set(CalcificationFinding.objects.filter(
        study__in=post.filter(modality="MG"), morphology__in=suspicious).values_list(
        "study__patient_id", flat=True))
    residual = {i: not pcr[i] for i in pcr}

    def metrics(predicted):
        tp = sum(predicted(i) and residual[i] for i in residual)
        fp = sum(predicted(i) and not residual[i] for i in residual)
        fn = sum(not predicted(i) and residual[i] for i in residual)
        tn = sum(not predicted(i) and not residual[i] for i in residual)
        return (tp + tn) / 2000, tp / (tp + fp), tn / (tn + fn)

    mri_acc, mri_ppv, mri_npv = metrics(lambda i: mri_pos[i])
    mg_acc, _, _ = metrics(lambda i: i in mg_pos)
    assert 0.80 <= mri_acc <= 0.88
    assert 0.89 <= mri_ppv <= 0.97
    assert 0.58 <= mri_npv <= 0.78
    assert mg_acc < mri_acc - 0.15  # mammography is clearly worse
    # Residual calcifications after NAC in a good share; 35-55% of them benign on excision.
    assert 0.3 <= len(mg_pos) / 2000 <= 0.6
    histology = Counter(Pathology.objects.filter(surgery__patient_id__in=mg_pos).values_list(
        "excised_calcification_histology", flat=True))
    assert histology["not_sampled"] == 0
    assert 0.35 <= histology["benign"] / len(mg_pos) <= 0.55

    # Surgery over the past ~10 years; most BCS get radiotherapy; a few progress or have events.
    surgery_years = {d.year for d in cohort.values_list("surgeries__date", flat=True)}
    assert len(surgery_years) >= 10
    bcs = cohort.filter(surgeries__procedure="BCS")
    assert bcs.filter(radiotherapy__isnull=False).distinct().count() / bcs.count() >= 0.9
    assert 0.02 <= ClinicalEvent.objects.filter(patient__in=cohort).values("patient").distinct(
    ).count() / 2000 <= 0.2
    suspicious_after_surgery = ImagingStudy.objects.filter(
        patient__in=cohort, phase="surveillance", birads__in=["4", "4A", "4B", "4C", "5"])
    assert 0.01 <= suspicious_after_surgery.values("patient").distinct().count() / 2000 <= 0.1
    assert ImagingStudy.objects.filter(patient__in=cohort, status="draft").exists()
    assert cohort.filter(follow_up_status="lost_to_follow_up").exists()


def test_cohort_rows_pass_model_validation():
    seed_cohort(n=60, seed=3, sites=1, today=AS_OF)
    cohort = Patient.objects.filter(site__code="cohort-1")
    for patient in cohort:
        patient.full_clean()
        patient.tumour.full_clean()
    for model in (NacCourse, ClinicVisit):
        for row in model.objects.filter(patient__in=cohort)[::5]:
            row.full_clean()
    for study in ImagingStudy.objects.filter(patient__in=cohort).select_related("patient")[::5]:
        study.full_clean()
    for model in (CalcificationFinding, EnhancementFinding):
        for finding in model.objects.filter(study__patient__in=cohort)[::3]:
            finding.full_clean()
    for path in Pathology.objects.filter(surgery__patient__in=cohort):
        path.full_clean()


def _rows(site):
    patients = Patient.objects.filter(site=site)
    skip = {"id", "uuid", "created_at", "updated_at", "site", "patient", "study", "surgery"}

    def values(qs):
        fields = [f.attname for f in qs.model._meta.concrete_fields if f.name not in skip]
        return sorted(tuple(str(v) for v in row) for row in qs.values_list(*fields))

    return [values(Patient.objects.filter(site=site)),
            values(ImagingStudy.objects.filter(patient__in=patients)),
            values(CalcificationFinding.objects.filter(study__patient__in=patients)),
            values(EnhancementFinding.objects.filter(study__patient__in=patients)),
            values(Pathology.objects.filter(surgery__patient__in=patients)),
            values(ClinicVisit.objects.filter(patient__in=patients)),
            values(NacCourse.objects.filter(patient__in=patients))]


def test_fast_writer_stores_what_the_orm_writer_stores():
    a, b = SiteFactory(code="a"), SiteFactory(code="b")
    signer = UserFactory()
    rng = random.Random(5)
    plans = [build_plan(sample_course(rng, mrn=f"X{i}", today=AS_OF), AS_OF) for i in range(25)]
    with transaction.atomic():
        write_plans([(p, Target(a.id, signer.id)) for p in plans], validate=True)
        write_plans_fast([(p, Target(b.id, signer.id)) for p in plans])
    assert _rows(a) == _rows(b)
    assert Patient.objects.filter(site=b).first().tumour.subtype != "unknown"


def test_delete_patients_follows_every_cascade():
    site, signer = SiteFactory(code="cohort-9"), UserFactory()
    rng = random.Random(9)
    plans = [build_plan(sample_course(rng, mrn=f"D{i}", today=AS_OF), AS_OF) for i in range(5)]
    keep = SiteFactory(code="keep")
    with transaction.atomic():
        write_plans([(p, Target(site.id, signer.id)) for p in plans], outbox=True)
        write_plans([(plans[0], Target(keep.id, signer.id))], outbox=True)
        assert delete_patients(Patient.objects.filter(site=site)) == 5
    assert not Patient.objects.filter(site=site).exists()
    kept = Patient.objects.get(site=keep)
    assert set(Event.objects.values_list("patient_id", flat=True)) == {kept.id}
    assert ImagingStudy.objects.exclude(patient=kept).count() == 0
    assert CalcificationFinding.objects.exclude(study__patient=kept).count() == 0
    assert Site.objects.filter(code="cohort-9").exists()


def test_command_refuses_bad_arguments_and_documents_the_outbox(capsys):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_cohort", patients=0, seed=1)
    with pytest.raises(CommandError, match="future"):
        call_command("seed_cohort", patients=5, seed=1, as_of="2999-01-01")
    with pytest.raises(CommandError, match="date like"):
        call_command("seed_cohort", "--patients", "5", "--seed", "1", "--as-of", "soon")
    from demo.management.commands.seed_cohort import Command
    assert "NO outbox rows" in Command.help and "--replace" in Command.help
    out = StringIO()
    call_command("seed_cohort", patients=12, seed=1, stdout=out)
    assert "12 patients" in out.getvalue()
    assert "seed_cohort" in capsys.readouterr().err  # the tqdm bar on stderr
    with pytest.raises(CohortExists):
        seed_cohort(n=5, seed=1)


def test_only_the_patients_meant_to_progress_trip_a_progression_rule():
    rng = random.Random(11)
    courses = [sample_course(rng, mrn=f"P{i}", today=AS_OF) for i in range(1500)]
    tripped = [bool(progression_signals(history_of_plan(build_plan(c, AS_OF)))) for c in courses]
    meant = [c.progression is not None for c in courses]
    # A planned progression can fall after the last exam (none to show it), never the reverse.
    assert not any(t and not m for t, m in zip(tripped, meant, strict=True))
    assert sum(tripped) >= 0.8 * sum(meant) and sum(tripped) >= 40
