"""The worklist's bulk actions: record a contact, reschedule, assign, export CSV; filters
by owner and due window; all or nothing; roles and sites."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import Action, AuditEvent
from core import roles
from patients.models import ContactDetails
from surveillance.models import ContactLog, ScheduledItem
from tests.patients.factories import PASSWORD, UserFactory
from tests.surveillance.test_views import TODAY, make_patients

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client):
    def login(user):
        client.login(username=user.username, password=PASSWORD)
        return client
    return login


@pytest.fixture
def today(time_machine):
    time_machine.move_to(TODAY, tick=True)
    return TODAY


@pytest.fixture
def colleague(site):
    user = UserFactory(username="colleague", first_name="Cora", last_name="Hale")
    user.groups.add(Group.objects.get_or_create(name=roles.COORDINATOR)[0])
    site.members.add(user)
    return user


def open_items(patients):
    return list(ScheduledItem.objects.filter(patient__in=patients, status="pending", due_from__lte=TODAY)
                .order_by("patient_id", "due_date"))


def post(c, action, items, **fields):
    return c.post(reverse("worklist"), {"action": action, "item": [str(i.uuid) for i in items],
                                        "filters": "state=overdue", **fields})  # kept for the redirect


def test_record_one_contact_for_many_items_in_one_step(site, coordinator, client_for, today):
    patients = make_patients(site, 3)
    items = open_items(patients)
    response = post(client_for(coordinator), "contact", items, outcome="called", note="Booked")
    assert response.status_code == 302 and response.url == reverse("worklist") + "?state=overdue"
    logs = ContactLog.objects.filter(item__in=items)
    assert logs.count() == len(items) and {x.outcome for x in logs} == {"called"}
    assert {x.by for x in logs} == {coordinator} and {x.note for x in logs} == {"Booked"}


def test_reschedule_is_all_or_nothing_and_names_the_item_that_cannot(site, coordinator, client_for, today):
    items = open_items(make_patients(site, 2))
    done = items[-1]
    ScheduledItem.objects.filter(pk=done.pk).update(status="done", done_on=TODAY)
    later = (TODAY + timedelta(days=20)).isoformat()
    response = post(client_for(coordinator), "reschedule", items, new_date=later)
    assert response.status_code == 400
    html = response.content.decode()
    assert "already done; nothing to log" in html and "nothing was changed" in html
    assert not ContactLog.objects.exists()
    assert ScheduledItem.objects.filter(original_due_date__isnull=False).count() == 0
    # The ticks are kept for a second try (on the items the filter shows).
    shown = post(client_for(coordinator), "reschedule", items, filters="",
                 new_date=(TODAY + timedelta(days=20)).isoformat()).content.decode()
    assert ' checked aria-label="Tick' in shown


def test_reschedule_moves_every_item(site, coordinator, client_for, today):
    items = open_items(make_patients(site, 2))
    new = TODAY + timedelta(days=20)
    assert post(client_for(coordinator), "reschedule", items, new_date=new.isoformat()).status_code == 302
    assert {i.due_date for i in ScheduledItem.objects.filter(pk__in=[i.pk for i in items])} == {new}


@pytest.mark.parametrize("days, ok", [(0, True), (366, True), (-1, False), (367, False)])
def test_assign_hands_items_to_a_colleague_by_a_date(site, coordinator, colleague, client_for, today,
                                                     days, ok):
    items = open_items(make_patients(site, 2))
    due = TODAY + timedelta(days=days)
    response = post(client_for(coordinator), "assign", items, owner=colleague.id,
                    owner_due_date=due.isoformat())
    assigned = ScheduledItem.objects.filter(owner=colleague, owner_due_date=due).count()
    if ok:
        assert response.status_code == 302 and assigned == len(items)
        events = AuditEvent.objects.filter(action=Action.UPDATE, object_type="surveillance.ScheduledItem")
        assert events.count() == len(items)
        assert events.first().changes["owner"] == {"before": None, "after": colleague.id}
    else:
        assert response.status_code == 400 and assigned == 0
        assert "The date" in response.content.decode()


def test_assign_refuses_a_user_of_another_site(site, other_site, coordinator, client_for, today):
    stranger = UserFactory(username="stranger")
    stranger.groups.add(Group.objects.get_or_create(name=roles.COORDINATOR)[0])
    other_site.members.add(stranger)
    items = open_items(make_patients(site, 1))
    response = post(client_for(coordinator), "assign", items, owner=stranger.id,
                    owner_due_date=TODAY.isoformat())
    assert response.status_code == 400 and not ScheduledItem.objects.filter(owner=stranger).exists()


def test_the_colleague_finds_her_items_with_the_owner_filter(site, coordinator, colleague, client_for, today):
    patients = make_patients(site, 3)
    mine = [i for i in open_items(patients) if i.patient_id == patients[0].id]
    post(client_for(coordinator), "assign", mine, owner=colleague.id, owner_due_date=TODAY.isoformat())
    c = client_for(colleague)
    own = c.get(reverse("worklist"), {"owner": "me"}).context["items"]
    assert {i.patient_id for i in own} == {patients[0].id}
    nobody = c.get(reverse("worklist"), {"owner": "none"}).context["items"]
    assert nobody and patients[0].id not in {i.patient_id for i in nobody}
    assert "Cora Hale" in c.get(reverse("worklist")).content.decode()


def test_due_window_filter(site, coordinator, client_for, today):
    make_patients(site, 2)
    c = client_for(coordinator)
    first = min(i.due_date for i in c.get(reverse("worklist")).context["items"])
    shown = c.get(reverse("worklist"), {"due_from": first.isoformat(), "due_to": first.isoformat()})
    assert {i.due_date for i in shown.context["items"]} == {first}
    bad = c.get(reverse("worklist"), {"due_from": "2024-09-10", "due_to": "2024-09-01"})
    assert "before its start" in bad.content.decode()


def test_csv_export_lists_the_ticked_items_with_how_to_reach_each(site, coordinator, client_for, today):
    patients = make_patients(site, 2)
    ContactDetails.objects.create(patient=patients[0], mobile_phone="07700 900123", preferred_language="es",
                                  email="=cmd@example.org")
    items = open_items(patients)
    response = post(client_for(coordinator), "csv", items)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(items)
    first = next(r for r in rows if r["mrn"] == patients[0].mrn)
    assert first["mobile_phone"] == "07700 900123" and first["language"] == "es"
    assert first["email"] == "'=cmd@example.org"  # no formula for the spreadsheet
    export = AuditEvent.objects.get(action=Action.EXPORT)
    assert export.changes == {"export": "worklist.csv", "items": len(items)}


def test_nothing_ticked_or_someone_elses_items(site, other_site, coordinator, client_for, today):
    theirs = open_items(make_patients(other_site, 1))
    c = client_for(coordinator)
    response = c.post(reverse("worklist"), {"action": "contact", "outcome": "called"})
    assert response.status_code == 400 and "Tick at least one item." in response.content.decode()
    response = post(c, "contact", theirs, outcome="called")
    assert response.status_code == 400 and "not on your worklist" in response.content.decode()
    assert not ContactLog.objects.exists()


def test_radiologists_cannot_act(site, radiologist, client_for, today):
    items = open_items(make_patients(site, 1))
    assert post(client_for(radiologist), "contact", items, outcome="called").status_code == 403
    page = client_for(radiologist).get(reverse("worklist")).content.decode()
    assert 'name="item"' not in page and "07700" not in page


def test_worklist_groups_items_per_patient_and_shows_how_to_reach_her(site, coordinator, client_for, today):
    patients = make_patients(site, 2, surgery=date(2023, 9, 1))
    ContactDetails.objects.create(patient=patients[0], mobile_phone="07700 900123", may_phone=True,
                                  consent_recorded_on=TODAY, preferred_channel="phone")
    response = client_for(coordinator).get(reverse("worklist"))
    groups = response.context["groups"]
    assert {g["patient"].id for g in groups} == {p.id for p in patients}
    assert all(len({i.patient_id for i in g["items"]}) == 1 for g in groups)
    html = response.content.decode()
    assert 'href="tel:07700900123"' in html and "prefers phone call" in html and "no voicemail" in html
    assert "no contact details" in html  # the other patient
