"""Worklist, contact log and calendar feed pages: roles, site scoping, query budgets."""

from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from icalendar import Calendar

from patients.models import ContactDetails
from surveillance.models import ContactLog, ScheduledItem
from surveillance.services.sweep import surveillance_sweep
from tests.patients.factories import PASSWORD, PatientFactory, SurgeryFactory

pytestmark = pytest.mark.django_db
TODAY = date(2024, 9, 1)


def make_patients(site, n, surgery=date(2024, 1, 10)):
    patients = []
    for _ in range(n):
        p = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
        SurgeryFactory(patient=p, date=surgery, laterality="right")
        patients.append(p)
    with time_machine.travel(TODAY, tick=False):
        surveillance_sweep()  # plans them (bulk-loaded: no signals)
    return patients


@pytest.fixture
def client_for(client):
    def login(user):
        client.login(username=user.username, password=PASSWORD)
        return client
    return login


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=True):
        yield TODAY


def test_worklist_shows_due_and_overdue_of_my_sites_most_late_first(site, other_site, coordinator, client_for,
                                                                     today):
    mine = make_patients(site, 2)
    theirs = make_patients(other_site, 1)
    response = client_for(coordinator).get(reverse("worklist"))
    assert response.status_code == 200
    items = response.context["items"]
    assert items and {i.patient_id for i in items} == {p.id for p in mine}
    firsts = [min(i.due_date for i in g["items"]) for g in response.context["groups"]]
    assert firsts == sorted(firsts)  # patients most overdue first, each with all her items
    assert all(i.state(today) in ("due", "overdue") for i in items)
    assert theirs[0].mrn not in response.content.decode()


def test_worklist_filters_by_kind_state_and_site(site, coordinator, client_for, today):
    make_patients(site, 2, surgery=date(2024, 2, 20))  # exam of 20 Jun overdue, 20 Oct not yet due
    c = client_for(coordinator)
    items = list(c.get(reverse("worklist"), {"kind": "clinical_exam"}).context["items"])
    assert items and {i.kind for i in items} == {"clinical_exam"}
    assert not list(c.get(reverse("worklist"), {"kind": "mri"}).context["items"])
    items = list(c.get(reverse("worklist"), {"state": "overdue"}).context["items"])
    assert items and all(i.state(today) == "overdue" for i in items)
    items = list(c.get(reverse("worklist"), {"state": "due"}).context["items"])
    assert all(i.state(today) == "due" for i in items)
    response = c.get(reverse("worklist"), {"site": 999999, "kind": "clinical_exam"})  # not my site
    assert "site" in response.context["form"].errors and "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("n", [3, 30])
def test_worklist_query_count_is_fixed(site, coordinator, client_for, today, n,
                                       django_assert_max_num_queries):
    patients = make_patients(site, n)
    item = ScheduledItem.objects.filter(patient=patients[0]).first()
    ContactLog.objects.create(item=item, patient=patients[0], outcome="called", by=coordinator)
    for p in patients:  # contact details and owners are read with the rows
        ContactDetails.objects.create(patient=p, mobile_phone="07700 900123", preferred_language="fr")
    ScheduledItem.objects.filter(patient__in=patients).update(owner=coordinator, owner_due_date=TODAY)
    c = client_for(coordinator)
    # session, user, roles, sites, colleagues, counts, biopsy counts, patients (count + page),
    # rows; the audit trail's record of the read
    with django_assert_max_num_queries(11):
        response = c.get(reverse("worklist"))
    assert len(response.context["groups"]) == min(n, 25)
    assert "07700 900123" in response.content.decode()


def test_radiologist_views_but_cannot_log_and_outsider_gets_404(site, radiologist, outsider, client_for,
                                                                today):
    patient = make_patients(site, 1)[0]
    item = ScheduledItem.objects.filter(patient=patient, due_from__lte=today, status="pending").first()
    url = reverse("worklist-item", kwargs={"uuid": item.uuid})
    c = client_for(radiologist)
    assert c.get(reverse("worklist")).status_code == 200
    assert c.get(url).status_code == 200
    assert c.post(url, {"outcome": "called"}).status_code == 403
    c.logout()
    assert client_for(outsider).get(url).status_code == 404


def test_worklist_needs_login(client):
    response = client.get(reverse("worklist"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_contact_log_outcomes(site, coordinator, client_for, today):
    patient = make_patients(site, 1, surgery=date(2023, 9, 1))[0]
    open_items = ScheduledItem.objects.filter(patient=patient, status="pending", due_from__lte=today)
    a, b, c_item = list(open_items.order_by("due_date")[:3])
    c = client_for(coordinator)

    def post(item, **data):
        return c.post(reverse("worklist-item", kwargs={"uuid": item.uuid}), data)

    assert post(a, outcome="no_answer", note="voicemail").status_code == 302
    response = post(a, outcome="rescheduled")
    assert response.status_code == 400 and "Give the new date" in response.content.decode()
    new = today + timedelta(days=20)
    assert post(a, outcome="rescheduled", new_date=new.isoformat()).status_code == 302
    a.refresh_from_db()
    assert a.due_date == new and a.original_due_date and a.became_due_on is None and a.status == "pending"
    tomorrow, three_days_ago = today + timedelta(days=1), today - timedelta(days=3)
    assert post(b, outcome="done_elsewhere", done_on=tomorrow.isoformat()).status_code == 400
    assert post(b, outcome="done_elsewhere", done_on=three_days_ago.isoformat()).status_code == 302
    b.refresh_from_db()
    assert b.status == "done" and b.done_source == "elsewhere" and b.done_on == today - timedelta(days=3)
    assert post(c_item, outcome="declined").status_code == 302
    c_item.refresh_from_db()
    assert c_item.status == "cancelled"
    log = list(ContactLog.objects.filter(patient=patient).order_by("at", "id"))
    assert [x.outcome for x in log] == ["no_answer", "rescheduled", "done_elsewhere", "declined"]
    assert all(x.by == coordinator and x.at for x in log)
    page = c.get(reverse("worklist-item", kwargs={"uuid": a.uuid})).content.decode()
    assert "voicemail" in page and "Rescheduled" in page


def test_calendar_feed_token_lifecycle_and_content(site, coordinator, client_for, client, today):
    patient = make_patients(site, 1)[0]
    c = client_for(coordinator)
    response = c.post(reverse("worklist-calendar"), {"action": "create"})
    feed_url = response.context["new_url"]
    c.logout()
    assert feed_url.startswith(settings.SITE_URL + "/worklist/calendar/")
    path = feed_url.removeprefix(settings.SITE_URL)
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    cal = Calendar.from_ical(body)
    events = cal.walk("VEVENT")
    # The exam due 10 Sep; the missed one of 10 May is superseded by it; nothing else within 90 days.
    expected = ScheduledItem.objects.filter(patient=patient, kind="clinical_exam", due_date=date(2024, 9, 10))
    assert len(events) == expected.count() == 1
    assert {str(e["UID"]) for e in events} == {f"{i.uuid}@breast-surveillance-tracker" for i in expected}
    assert all(e.decoded("DTSTART").__class__ is date for e in events)  # all-day
    for secret in (patient.mrn, patient.family_name, patient.given_name):
        assert secret not in body
    assert str(patient.uuid)[:8] in body and "\r\n" in body
    # Stable UIDs: the same feed tomorrow has the same UIDs.
    assert {str(e["UID"]) for e in Calendar.from_ical(client.get(path).content).walk("VEVENT")} == {
        str(e["UID"]) for e in events}
    client_for(coordinator).post(reverse("worklist-calendar"), {"action": "revoke"})
    client.logout()
    assert client.get(path).status_code == 404
    assert client.get(reverse("worklist-calendar-feed", kwargs={"token": "nope"})).status_code == 404


def test_missed_item_leaves_the_worklist_once_the_next_of_its_series_is_due(site, coordinator, today):
    from surveillance.selectors import worklist_items

    patient = make_patients(site, 1, surgery=date(2023, 9, 1))[0]
    exams = list(ScheduledItem.objects.filter(patient=patient, kind="clinical_exam").order_by("due_date")[:3])
    shown = set(worklist_items(user=coordinator, as_of=today).values_list("id", flat=True))
    # Exams of 1 Jan and 1 May 2024 were missed; the one due 1 Sep 2024 is the one to work.
    assert exams[2].id in shown and not {exams[0].id, exams[1].id} & shown
    ScheduledItem.objects.filter(id=exams[0].id).update(lost_to_follow_up=True)
    assert exams[0].id in set(worklist_items(user=coordinator, as_of=today).values_list("id", flat=True))


def test_rescheduling_brings_a_lost_patient_back_to_active(site, coordinator, today):
    from patients.models import Patient
    from surveillance.services.contacts import contact_log

    patient = make_patients(site, 1, surgery=date(2023, 9, 1))[0]
    Patient.objects.filter(id=patient.id).update(follow_up_status="lost_to_follow_up")
    item = ScheduledItem.objects.filter(patient=patient, status="pending", due_from__lte=today).last()
    contact_log(item=item, by=coordinator, outcome="rescheduled", new_date=today + timedelta(days=14))
    assert Patient.objects.get(id=patient.id).follow_up_status == "active"
