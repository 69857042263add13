"""Every page and API read that shows patient data is in the audit trail: the walk goes
over every GET of the permission matrix that some role may read, as that role."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.middleware import NO_PATIENT_DATA
from audit.models import Action, AuditEvent

from .matrix import read_matrix, routes, url_kwargs
from .world import build_world

pytestmark = pytest.mark.django_db
# Pages of one object that is not (yet) a patient of the world: a held HL7 message names a
# person the site has not registered; its page records a view of the message itself.
NOT_OF_A_PATIENT = {"feed-message": "feeds.Message", "feed-register": "feeds.Message"}
READERS = ("clinic_staff", "radiologist", "coordinator", "admin")
# Routes whose <uuid> names something other than a patient: a registry upload (its page and
# status show counts and row problems, several patients' or none); the request's own
# audit event is what they need.
UUID_OF_ANOTHER_KIND = {"registry-upload", "registry-upload-status"}


def test_every_read_of_patient_data_is_audited():
    world = build_world()
    patient = world.patient
    found, _ = routes()
    walked, problems = [], []
    for (name, method), expected in sorted(read_matrix().items()):
        if method != "GET":
            continue
        column = next((c for c in READERS if expected[c] == 200), None)
        if column is None and expected["anonymous"] == 200 and name not in ("login",):
            column = "coordinator"  # the calendar feed: its token's owner
        if column is None:
            continue
        user = world.users[column]
        client = Client()
        client.force_login(user)
        url = reverse(name, kwargs=url_kwargs(world, name, found[name].route))
        before = AuditEvent.objects.count()
        response = client.get(url)
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content).decode(errors="replace")
        events = list(AuditEvent.objects.order_by("id")[before:])
        walked.append(name)
        shows_patient = patient.mrn in body or patient.family_name in body or str(patient.uuid) in body
        if name in NO_PATIENT_DATA:
            if shows_patient:
                problems.append(f"{name}: listed as showing no patient data, but it does")
            continue
        mine = [e for e in events if e.actor_id == user.id]
        if not mine:
            problems.append(f"{name} ({url}) as {column}: no audit event")
            continue
        names_patient = name not in UUID_OF_ANOTHER_KIND and any(
            k in found[name].route for k in ("<uuid", "(?P<uuid>", "<int:pk>", "(?P<pk>"))
        if name in NOT_OF_A_PATIENT:
            if not any(e.action == Action.VIEW and e.object_type == NOT_OF_A_PATIENT[name] for e in mine):
                problems.append(f"{name} ({url}): no view event of the {NOT_OF_A_PATIENT[name]}")
        elif names_patient and not any(e.action == Action.VIEW and e.patient_id == patient.id
                                     for e in mine):
            problems.append(f"{name} ({url}): no view event of the patient")
        if "calendar" in url:
            assert all("[redacted]" in e.request_path for e in events if e.request_path)
    assert not problems, "\n".join(problems)
    for name in ("patient-timeline", "study-detail", "worklist-item", "alert-detail", "patient-list",
                 "worklist", "api-patient-list", "api-schedule-detail", "worklist-calendar-feed"):
        assert name in walked, name


def test_a_list_read_records_the_search():
    world = build_world()
    client = Client()
    client.force_login(world.users["clinic_staff"])
    client.post(reverse("patient-list"), {"q": world.patient.family_name, "follow_up_status": "active"},
                follow=True)
    event = AuditEvent.objects.filter(action=Action.LIST).latest("id")
    assert event.object_type == "patient-list" and event.actor_id == world.users["clinic_staff"].id
    assert event.changes["query"] == {"follow_up_status": ["active"], "q": [world.patient.family_name],
                                      "search": ["1"]}


def test_a_contact_and_a_reschedule_are_audited_with_the_patient():
    from datetime import date, timedelta

    world = build_world()
    item = world.objects["item"]
    client = Client()
    client.force_login(world.users["coordinator"])
    new_date = date.today() + timedelta(days=30)
    response = client.post(reverse("worklist-item", kwargs={"uuid": item.uuid}),
                           {"outcome": "rescheduled", "new_date": new_date.isoformat(), "note": ""})
    assert response.status_code == 302
    event = AuditEvent.objects.filter(object_type="surveillance.ContactLog").latest("id")
    assert event.action == Action.CREATE and event.patient_id == world.patient.id
    assert event.actor_id == world.users["coordinator"].id
    assert event.changes["outcome"]["after"] == "rescheduled"
    assert event.changes["new_date"]["after"] == new_date.isoformat()
