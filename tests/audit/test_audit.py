from datetime import date

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from imaging.services import study_amend, study_finalize, study_save_draft
from tests.patients.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def events(action, **kw):
    return AuditEvent.objects.filter(action=action, **kw)


def test_logins_and_failed_logins_are_recorded(client, clinic_staff):
    client.post(reverse("login"), {"username": "staff", "password": "wrong"})
    client.post(reverse("login"), {"username": "staff", "password": PASSWORD, "next": "/admin/"})
    failed = events("login_failed").get()
    assert failed.actor_username == "staff" and failed.actor_id is None
    assert failed.changes == {}  # the password tried is never stored
    assert events("login", actor=clinic_staff).count() == 1


@pytest.mark.urls("tests.audit.urls")
def test_viewing_a_patient_record_is_recorded_and_other_sites_get_404(
    client, clinic_staff, outsider, site
):
    patient = PatientFactory(site=site)
    client.force_login(clinic_staff)
    assert client.get(f"/test-patient/{patient.uuid}/").status_code == 200
    view = events("view").get()
    assert (view.actor, view.patient_id, str(view.patient_uuid)) == (
        clinic_staff, patient.id, str(patient.uuid))
    client.force_login(outsider)
    assert client.get(f"/test-patient/{patient.uuid}/").status_code == 404
    assert events("view").count() == 1


def test_changes_record_before_and_after_values(site):
    patient = PatientFactory(site=site, family_name="Old")
    created = events("create", object_type="patients.Patient").get()
    assert created.changes["family_name"] == {"before": None, "after": "Old"}
    patient = type(patient).objects.get(pk=patient.pk)
    patient.family_name = "New"
    patient.save()
    updated = events("update", object_type="patients.Patient").get()
    assert updated.changes == {"family_name": {"before": "Old", "after": "New"}}
    assert updated.patient_id == patient.id
    patient_id = patient.id
    patient.delete()
    deleted = events("delete", object_type="patients.Patient").get()
    assert deleted.patient_id == patient_id
    assert deleted.changes["family_name"]["before"] == "New"


def test_each_save_compares_with_the_values_of_the_save_before(site):
    """Loaded values are kept as loaded and turned into JSON-safe values only when saved."""
    patient = PatientFactory(site=site, date_of_birth=date(1960, 1, 1))
    patient = type(patient).objects.get(pk=patient.pk)
    patient.date_of_birth = date(1961, 2, 3)
    patient.save()
    patient.save()  # nothing changed since the last save: no event
    patient.date_of_birth = date(1962, 3, 4)
    patient.save()
    updates = [e.changes for e in events("update", object_type="patients.Patient").order_by("id")]
    assert updates == [
        {"date_of_birth": {"before": "1960-01-01", "after": "1961-02-03"}},
        {"date_of_birth": {"before": "1961-02-03", "after": "1962-03-04"}},
    ]
    assert "_audit_before" not in patient._audit_before  # no chain of earlier copies


def test_study_drafts_signatures_and_amendments_are_recorded(site, clinic_staff, radiologist):
    patient = PatientFactory(site=site)
    data = {"study_date": date(2020, 1, 1), "modality": "MG", "birads": "2"}
    calc = {"group": "L1", "laterality": "left", "morphology": "amorphous",
            "distribution": "grouped", "extent_mm": 10, "count_bin": "6-10",
            "inside_tumor_bed": True}
    study = study_save_draft(patient=patient, data=data, by=clinic_staff, calcifications=[calc])
    study_finalize(study=study, by=radiologist)
    study_amend(study=study, by=radiologist, reason="re-measured", data={},
                calcifications=[calc | {"extent_mm": 12}], enhancements=[])
    assert events("create", object_type="imaging.ImagingStudy", actor=clinic_staff).exists()
    assert events("sign", actor=radiologist, patient_id=patient.id).exists()
    amend = events("amend").get()
    assert amend.changes["reason"] == "re-measured"
    assert amend.changes["calcifications"]["after"][0]["extent_mm"] == 12.0


def test_the_trail_cannot_be_edited(site):
    PatientFactory(site=site)
    event = AuditEvent.objects.first()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="view")


def test_the_trail_cannot_be_deleted(site):
    """PostgreSQL and SQLite alike (SQLite used to allow DELETE)."""
    PatientFactory(site=site)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.exists()


def test_the_trail_cannot_be_truncated_on_postgresql(postgres_db, site):
    PatientFactory(site=site)
    with pytest.raises(DatabaseError), transaction.atomic(), postgres_db.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")


# serialized_rollback, as every transactional test here: the database is put back as
# migrated (roles, protocols) without re-running post-migrate, which would recreate them
# under new ids, with audit events, for the tests after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_test_runner_still_empties_its_database_between_tests(site):
    """A transactional test leaves audit events; the flush after it goes round the triggers
    (tests/conftest.py) and the next test starts with none."""
    PatientFactory(site=site)
    assert AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_previous_transactional_test_left_no_events():
    assert not AuditEvent.objects.filter(object_type="patients.Patient").exists()


def test_admin_offers_no_way_to_change_the_trail(client, site_admin, site):
    PatientFactory(site=site, mrn="A-77")
    site_admin.is_superuser = True
    site_admin.save()
    client.force_login(site_admin)
    event = AuditEvent.objects.filter(patient_id__isnull=False).first()
    assert client.get(reverse("admin:audit_auditevent_changelist") + "?q=A-77").status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]),
                       {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
