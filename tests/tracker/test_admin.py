"""The Django admin within the clinic's rules: clinical rows read-only and site-scoped,
no secret shown, only a superuser grants roles, sites or superuser status, and every admin
request audited. The admin's matrix (docs/permissions.md) covers every registered model."""

from datetime import date

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from alerts.models import AlertSettings, Notification, Reevaluation, ThresholdChange
from audit.models import Action, AuditEvent
from core import roles
from imaging.models import ImagingStudy, StudyAmendment
from imaging.vocabulary import StudyStatus
from outbox.models import Event
from patients.models import Patient
from surveillance.models import Digest
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import (
    PathologyFactory,
    PatientFactory,
    TumourProfileFactory,
    UserFactory,
)

from .admin_matrix import call, read_admin_matrix, registered, urls
from .world import build_world

pytestmark = pytest.mark.django_db


def admin_world():
    """The matrix world, with one row of every model the admin lists."""
    world = build_world()
    patient, final = world.patient, world.objects["final_study"]
    TumourProfileFactory(patient=patient)
    PathologyFactory(surgery=world.objects["surgery"])
    CalcificationFindingFactory(study=final)
    EnhancementFindingFactory(study=ImagingStudyFactory(patient=patient, modality="MR"))
    StudyAmendment.objects.create(study=final, amended_by=world.users["radiologist"],
                                  reason="Re-measured", changes={})
    AlertSettings.objects.get_or_create()
    ThresholdChange.objects.create(changed_by=world.users["admin"], before={}, after={}, note="")
    Notification.objects.create(alert=world.objects["alert"], address="radiologist@example.org")
    Reevaluation.objects.create(chunk_size=1, total_patients=1)
    Digest.objects.create(user=world.users["coordinator"], date=date(2024, 1, 2),
                          period_start=date(2024, 1, 1))
    Client(REMOTE_ADDR="127.0.0.1").post(reverse("login"), {"username": "x", "password": "y"})
    AccessFailureLog.objects.create(username="x", ip_address="127.0.0.1", user_agent="",
                                    path_info="/login/", locked_out=False)
    Event.objects.create(kind=Event.Kind.ANCHORS_CHANGED, patient_id=patient.id)
    return world


def _object(model, world):
    """An object of `world.site` (or any, for models that belong to no patient)."""
    if model is Patient:
        return world.patient
    if model._meta.label == "auth.User":
        return world.users["radiologist"]
    if model is AuditEvent:
        return AuditEvent.objects.filter(patient_id=world.patient.id).first()
    if model._meta.label == "feeds.FeedSource":
        return model.objects.get_or_create(sending_facility="MATRIX_RIS", site=world.site)[0]
    return model._default_manager.order_by("pk").first()


def test_every_registered_admin_model_has_a_row():
    matrix = read_admin_matrix()
    assert sorted(registered()) == sorted(matrix)


def test_admin_matrix():
    world = admin_world()
    matrix = read_admin_matrix()
    client = Client()
    client.force_login(world.users["admin"])
    mismatches = []
    for label, model in sorted(registered().items()):
        obj = _object(model, world)
        for action, (method, url) in urls(label, obj).items():
            status = call(client, method, url).status_code
            if status != matrix[label][action]:
                mismatches.append(f"{label} {action} ({method} {url}): got {status}, "
                                  f"matrix says {matrix[label][action]}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("column", ["clinic_staff", "radiologist", "coordinator", "other_site"])
def test_no_other_role_reaches_the_admin(column):
    world = build_world()
    client = Client()
    client.force_login(world.users[column])
    for label, model in registered().items():
        for action, (method, url) in urls(label, _object(model, world)).items():
            response = call(client, method, url)
            assert response.status_code == 302, (column, label, action)
            assert reverse("admin:login") in response["Location"]


def test_another_sites_records_are_invisible_to_an_admin():
    world = build_world()
    south = PatientFactory(site=world.other_site, mrn="SOUTH-0001", family_name="Southwood")
    study = ImagingStudyFactory(patient=south, final=True)
    client = Client()
    client.force_login(world.users["admin"])
    listing = client.get(reverse("admin:patients_patient_changelist")).content.decode()
    assert world.patient.mrn in listing and "SOUTH-0001" not in listing
    for name, obj in (("patients_patient", south), ("imaging_imagingstudy", study)):
        response = client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 302, name  # "doesn't exist": the admin index
    studies = client.get(reverse("admin:imaging_imagingstudy_changelist")).content.decode()
    assert "Southwood" not in studies
    trail = client.get(reverse("admin:audit_auditevent_changelist") + "?q=SOUTH-0001")
    assert trail.context["cl"].result_count == 0
    assert str(south.uuid) not in client.get(
        reverse("admin:audit_auditevent_changelist")).content.decode()


def test_a_signed_study_cannot_be_changed_signed_or_deleted_in_the_admin():
    world = build_world()
    final = world.objects["final_study"]
    draft = world.objects["draft_study"]
    admin_user = world.users["admin"]
    admin_user.is_superuser = True  # not even a superuser
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    change = reverse("admin:imaging_imagingstudy_change", args=[final.pk])
    assert client.post(change, {"birads": "5", "report_text": "changed"}).status_code == 403
    assert client.post(reverse("admin:imaging_imagingstudy_change", args=[draft.pk]),
                       {"status": "final", "signed_at_0": "2020-01-01"}).status_code == 403
    assert client.post(reverse("admin:imaging_imagingstudy_delete", args=[final.pk]),
                       {"post": "yes"}).status_code == 403
    final.refresh_from_db()
    draft.refresh_from_db()
    assert final.birads != "5" and draft.status == StudyStatus.DRAFT
    assert ImagingStudy.objects.filter(pk=final.pk).exists()


def test_only_a_superuser_grants_roles_sites_or_superuser():
    world = build_world()
    admin_user = world.users["admin"]
    client = Client()
    client.force_login(admin_user)
    change = reverse("admin:auth_user_change", args=[admin_user.pk])
    page = client.get(change).content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    radiologist_group = Group.objects.get(name=roles.RADIOLOGIST)
    client.post(change, {"username": admin_user.username, "is_superuser": "on", "is_staff": "on",
                         "is_active": "on", "groups": [radiologist_group.pk]})
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser and not admin_user.groups.filter(name=roles.RADIOLOGIST).exists()
    # Nor sites (whose patients a user sees), nor anyone's password but their own.
    site_change = reverse("admin:patients_site_change", args=[world.other_site.pk])
    assert client.post(site_change, {"name": "South", "code": "south",
                                     "members": [admin_user.pk]}).status_code in (302, 403)
    assert not world.other_site.members.filter(pk=admin_user.pk).exists()
    radiologist = world.users["radiologist"]
    password = reverse("admin:auth_user_password_change", args=[radiologist.pk])
    assert client.post(password, {"password1": "a-new-long-password", "password2":
                                  "a-new-long-password"}).status_code == 403
    # A superuser does grant them, and the grant is in the audit trail.
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    admin_group = Group.objects.get(name=roles.ADMIN)
    response = client.post(change, {"username": admin_user.username, "is_active": "on",
                                     "is_staff": "on", "groups": [admin_group.pk, radiologist_group.pk],
                                     "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert admin_user.groups.filter(name=roles.RADIOLOGIST).exists()
    grant = AuditEvent.objects.filter(object_type="auth.User", object_id=str(admin_user.pk),
                                      changes__groups__has_key="added", actor=boss).get()
    assert grant.changes["groups"]["added"] == [roles.RADIOLOGIST]


def test_no_secret_is_shown_in_the_admin():
    world = build_world()
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(boss)
    token = world.objects["calendar_token"]
    for name in registered():
        app, model = name.split(".")
        body = client.get(reverse(f"admin:{app}_{model}_changelist")).content.decode()
        assert token not in body, name
    calendar = client.get(reverse("admin:surveillance_calendartoken_change", args=[1])).content
    assert b"token_hash" not in calendar


def test_every_admin_request_is_audited_with_the_patient_it_shows():
    world = build_world()
    client = Client()
    client.force_login(world.users["admin"])
    before = AuditEvent.objects.count()
    client.get(reverse("admin:patients_patient_changelist"))
    client.get(reverse("admin:patients_patient_change", args=[world.patient.pk]))
    client.get(reverse("admin:imaging_imagingstudy_change", args=[world.objects["final_study"].pk]))
    client.post(reverse("admin:imaging_imagingstudy_delete", args=[world.objects["final_study"].pk]),
                {"post": "yes"})
    events = list(AuditEvent.objects.order_by("id")[before:])
    admin_events = [e for e in events if e.action == Action.ADMIN]
    assert [e.changes["view"] for e in admin_events] == [
        "admin:patients_patient_changelist", "admin:patients_patient_change",
        "admin:imaging_imagingstudy_change", "admin:imaging_imagingstudy_delete"]
    assert admin_events[-1].changes["method"] == "POST" and admin_events[-1].changes["status"] == 403
    views = [e for e in events if e.action == Action.VIEW]
    assert [e.patient_id for e in views] == [world.patient.id, world.patient.id]
    assert all(e.actor_id == world.users["admin"].id for e in events)
