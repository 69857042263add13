"""The reconciliation queue and the message log: login, roles, site scoping, audit, queries."""

from datetime import date

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from feeds.models import FeedSource, Message
from feeds.services import receive
from imaging.models import ImagingStudy
from tests.feeds import builders as b
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(feed_source):
    receive(b.oru("Q-1", accession="ACC-Q1", family="Marsh", given="Helen", dob=date(1975, 4, 2)).encode())
    return Message.objects.get()


def test_pages_need_a_login(client, held):
    for url in (reverse("feed-queue"), reverse("feed-log"), reverse("feed-message", args=[held.uuid])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_radiologists_and_coordinators_do_not_work_the_queue(client, radiologist, held):
    client.force_login(radiologist)
    assert client.get(reverse("feed-queue")).status_code == 403
    assert client.get(reverse("feed-log")).status_code == 403


def test_the_queue_shows_the_held_message_with_the_likely_patient(client, clinic_staff, site, held,
                                                                django_assert_max_num_queries):
    likely = PatientFactory(site=site, mrn="NC-OLD", family_name="Marsh", given_name="Helen",
                            date_of_birth=date(1975, 4, 2))
    for n in range(5):  # more held messages do not mean more queries
        receive(b.oru(f"Q-{n + 2}", accession=f"ACC-Q{n + 2}").encode())
    client.force_login(clinic_staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("feed-queue"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Marsh, Helen" in page and "NC-OLD" in page and "same birth date" in page
    assert str(likely.uuid) in page
    assert "(6)" in page


def test_matching_from_the_queue_files_the_report(client, clinic_staff, site, held):
    patient = PatientFactory(site=site, mrn="NC-OLD", date_of_birth=date(1975, 4, 2))
    client.force_login(clinic_staff)
    response = client.post(reverse("feed-match", args=[held.uuid]), {"patient": str(patient.uuid)})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Message.Status.PROCESSED
    assert ImagingStudy.objects.get().patient == patient


def test_a_patient_of_another_site_is_not_found_when_matching(client, clinic_staff, other_site, held):
    elsewhere = PatientFactory(site=other_site)
    client.force_login(clinic_staff)
    response = client.post(reverse("feed-match", args=[held.uuid]), {"patient": str(elsewhere.uuid)})
    assert response.status_code == 404
    assert ImagingStudy.objects.count() == 0


def test_registering_from_the_queue_prefills_from_the_message(client, clinic_staff, site, held):
    client.force_login(clinic_staff)
    page = client.get(reverse("feed-register", args=[held.uuid])).content.decode()
    assert 'value="Marsh"' in page and 'value="1975-04-02"' in page
    response = client.post(reverse("feed-register", args=[held.uuid]), {
        "family_name": "Marsh", "given_name": "Helen", "date_of_birth": "2999-01-01"})
    assert "cannot be in the future" in response.content.decode()
    assert ImagingStudy.objects.count() == 0
    response = client.post(reverse("feed-register", args=[held.uuid]), {
        "family_name": "Marsh", "given_name": "Helen", "date_of_birth": "1975-04-02"})
    study = ImagingStudy.objects.get()
    assert response.status_code == 302 and response["Location"] == study.patient.get_absolute_url()
    assert (study.patient.mrn, study.patient.site) == ("Q-1", site)


def test_another_sites_messages_are_404_and_absent_from_the_log(client, outsider, held, other_site):
    outsider.groups.clear()
    from django.contrib.auth.models import Group

    outsider.groups.add(Group.objects.get_or_create(name="clinic_staff")[0])
    client.force_login(outsider)
    assert client.get(reverse("feed-message", args=[held.uuid])).status_code == 404
    assert "ACC-Q1" not in client.get(reverse("feed-log")).content.decode()
    assert "Marsh" not in client.get(reverse("feed-queue")).content.decode()


def test_unsited_messages_are_for_administrators_only(client, clinic_staff, site_admin, feed_source):
    receive(b"PID|1||NOT-HL7")
    rejected = Message.objects.get()
    assert rejected.site is None
    client.force_login(clinic_staff)
    assert client.get(reverse("feed-message", args=[rejected.uuid])).status_code == 404
    client.force_login(site_admin)
    assert client.get(reverse("feed-message", args=[rejected.uuid])).status_code == 200


def test_opening_a_message_is_audited_and_shows_it_as_received(client, clinic_staff, held):
    client.force_login(clinic_staff)
    page = client.get(reverse("feed-message", args=[held.uuid])).content.decode()
    assert "ORU^R01" in page and "OBR|1|PLACC-Q1|ACC-Q1" in page
    assert AuditEvent.objects.filter(action=Action.VIEW, object_type="feeds.Message",
                                     object_id=str(held.pk), actor=clinic_staff).exists()


def test_the_log_filters_and_pages_in_constant_queries(client, clinic_staff, feed_source,
                                                      django_assert_max_num_queries):
    for n in range(60):
        receive(b.adt(f"L-{n}").encode())
    receive(b.msh("ZZZ^Z01", "BAD-1").encode())
    client.force_login(clinic_staff)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("feed-log")).content.decode()
    assert "Page 1 of 2" in page
    page = client.get(reverse("feed-log") + "?status=rejected").content.decode()
    assert "BAD-1" not in page  # an unknown type is rejected before a site is known: admins' only
    page = client.get(reverse("feed-log") + "?q=MSG").content.decode()
    assert "No message matches" in page


def test_an_administrator_processes_an_error_again(client, site_admin, feed_source):
    receive(b.adt("R-1", family="").encode())
    message = Message.objects.get()
    assert message.status == Message.Status.ERROR
    FeedSource.objects.update(note="fixed")  # the admin fixes what was wrong (here: nothing can be)
    client.force_login(site_admin)
    response = client.post(reverse("feed-process", args=[message.uuid]), follow=True)
    assert "PID-5" in response.content.decode()
    message.refresh_from_db()
    assert message.status == Message.Status.ERROR


def test_clinic_staff_cannot_process_again(client, clinic_staff, feed_source):
    receive(b.adt("R-2", family="").encode())
    client.force_login(clinic_staff)
    assert client.post(reverse("feed-process", args=[Message.objects.get().uuid])).status_code == 403
