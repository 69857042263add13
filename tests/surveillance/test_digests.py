"""Daily digest: one email per coordinator per day, claimed before sending; in-app copy."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory

from core import roles
from surveillance.models import Digest, Transition, TransitionDelivery
from surveillance.selectors import digest_for_dashboard, plan_for_patient, worklist_counts
from surveillance.services.digests import digests_send, patient_ref
from surveillance.services.sweep import surveillance_sweep
from tests.patients.factories import PatientFactory, SurgeryFactory, UserFactory

pytestmark = pytest.mark.django_db
DAY = date(2024, 4, 10)  # the 4-month exam (due 10 May) of surgeries on 10 Jan becomes due


def cohort(site, n):
    patients = []
    for _ in range(n):
        p = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
        SurgeryFactory(patient=p, date=date(2024, 1, 10), laterality="right")
        patients.append(p)
    with time_machine.travel(date(2024, 4, 9), tick=False):
        surveillance_sweep()
    with time_machine.travel(DAY, tick=False):
        surveillance_sweep()
    return patients


def test_one_email_per_coordinator_listing_every_patient_of_their_sites(site, other_site, coordinator):
    mine = cohort(site, 4)
    cohort(other_site, 2)
    other_coordinator = UserFactory(username="coord2")
    other_coordinator.groups.add(Group.objects.get(name=roles.COORDINATOR))
    other_site.members.add(other_coordinator)
    with time_machine.travel(DAY, tick=False):
        counts = digests_send()
    assert counts == {"sent": 2}
    assert len(mail.outbox) == 2
    message = next(m for m in mail.outbox if m.to == [coordinator.email])
    assert message.subject == ("Surveillance digest 10 Apr 2024: 4 newly due, 0 newly overdue, "
                               "0 lost to follow-up")
    for p in mine:
        assert patient_ref(p.given_name, p.family_name, p.mrn) in message.body
        assert p.mrn not in message.subject and p.family_name not in message.subject
        assert p.family_name not in message.body  # initials and MRN only
    html = message.alternatives[0][0]
    assert "/worklist/items/" in html
    digest = Digest.objects.get(user=coordinator, date=DAY)
    assert digest.status == "sent" and digest.newly_due == 4 and len(digest.content["due"]) == 4


def test_beat_firing_twice_sends_once(site, coordinator):
    cohort(site, 2)
    with time_machine.travel(DAY, tick=False):
        digests_send()
        assert digests_send() == {"skipped": 1}
    assert len(mail.outbox) == 1 and Digest.objects.count() == 1


def test_failed_send_is_recorded_and_retried_the_same_day(site, coordinator):
    cohort(site, 1)
    with time_machine.travel(DAY, tick=False):
        down = ConnectionRefusedError("smtp down")
        with mock.patch("surveillance.services.digests.send_email", side_effect=down):
            assert digests_send() == {"failed": 1}
        digest = Digest.objects.get()
        assert digest.status == "failed" and "smtp down" in digest.error
        assert digests_send() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_nothing_new_sends_nothing_and_no_email_address_keeps_the_in_app_copy(site, coordinator):
    with time_machine.travel(DAY, tick=False):
        assert digests_send() == {"empty": 1}
    assert not mail.outbox
    coordinator.email = ""
    coordinator.save()
    cohort(site, 1)
    with time_machine.travel(date(2024, 4, 11), tick=False):
        # The sweep ran after yesterday's (empty) digest: its transition is reported today.
        assert digests_send() == {"in_app": 1}
    assert not mail.outbox
    assert digest_for_dashboard(coordinator).newly_due == 1
    with time_machine.travel(date(2024, 4, 12), tick=False):
        assert digests_send() == {"empty": 1}  # and never again


def test_dashboard_include_and_plan_include_render(site, coordinator):
    patient = cohort(site, 1)[0]
    with time_machine.travel(DAY, tick=False):
        digests_send()
        request = RequestFactory().get("/")
        request.user = coordinator
        html = render_to_string("surveillance/_dashboard.html", {
            "surveillance_digest": digest_for_dashboard(coordinator),
            "surveillance_counts": worklist_counts(user=coordinator, as_of=DAY)}, request=request)
        assert "1 due" in html and "Newly due" in html and patient.mrn in html
        plan_html = render_to_string("surveillance/_patient_plan.html", {"plan": plan_for_patient(patient)})
    assert "Surveillance plan" in plan_html and "Next:" in plan_html and "Clinical exam" in plan_html


def test_a_send_abandoned_by_a_dead_worker_is_reclaimed_after_thirty_minutes(site, coordinator):
    cohort(site, 1)
    Digest.objects.create(user=coordinator, date=DAY, period_start=DAY,
                          claimed_at=datetime(2024, 4, 10, 6, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2024, 4, 10, 6, 10, tzinfo=UTC), tick=False):
        assert digests_send() == {"skipped": 1}  # maybe still sending: leave it
    with time_machine.travel(datetime(2024, 4, 10, 6, 45, tzinfo=UTC), tick=False):
        assert digests_send() == {"sent": 1}
        assert digests_send() == {"skipped": 1}
    assert len(mail.outbox) == 1


def test_a_transition_after_the_days_digest_is_in_the_next_digest_and_never_twice(site, coordinator):
    """The digest went out at 06:00; a manual sweep at noon stamps a new transition. It is
    not lost: tomorrow's digest claims it, and no later digest repeats it."""
    with time_machine.travel(DAY, tick=False):
        assert digests_send() == {"empty": 1}
        patient = cohort(site, 1)[0]  # the sweep of the day, after the digest
        assert Transition.objects.filter(item__patient=patient, kind="due").count() == 1
        assert digests_send() == {"skipped": 1}  # today's digest is sent: nothing more today
    with time_machine.travel(DAY + timedelta(days=1), tick=False):
        assert digests_send() == {"sent": 1}
    digest = Digest.objects.get(user=coordinator, date=DAY + timedelta(days=1))
    assert digest.newly_due == 1 and digest.period_start == DAY
    assert digest.content["due"][0]["patient_uuid"] == str(patient.uuid)
    for n in (2, 3):
        with time_machine.travel(DAY + timedelta(days=n), tick=False):
            surveillance_sweep()
            assert digests_send() == {"empty": 1}
    assert TransitionDelivery.objects.filter(user=coordinator).count() == 1


def test_two_coordinators_of_a_site_each_get_the_transition_once(site, coordinator):
    other = UserFactory(username="coord-b", email="b@example.org")
    other.groups.add(Group.objects.get(name=roles.COORDINATOR))
    site.members.add(other)
    cohort(site, 2)
    with time_machine.travel(DAY, tick=False):
        assert digests_send() == {"sent": 2}
        assert digests_send() == {"skipped": 2}
    assert sorted(TransitionDelivery.objects.values_list("user_id", flat=True)) == sorted(
        [coordinator.id, coordinator.id, other.id, other.id])


def test_a_failed_digest_hands_its_transitions_to_the_next_days(site, coordinator):
    cohort(site, 1)
    with time_machine.travel(DAY, tick=False), \
            mock.patch("surveillance.services.digests.send_email", side_effect=OSError("smtp down")):
        assert digests_send() == {"failed": 1}
    with time_machine.travel(DAY + timedelta(days=1), tick=False):
        assert digests_send() == {"sent": 1}
    assert Digest.objects.get(date=DAY + timedelta(days=1)).newly_due == 1
    assert TransitionDelivery.objects.get().digest.date == DAY + timedelta(days=1)


def test_a_claimed_transition_is_not_claimed_again_by_a_concurrent_run(site, coordinator):
    """Two runs for different days racing: the unique (transition, coordinator) row lets one
    claim; the other inserts nothing (ON CONFLICT DO NOTHING) and reports nothing."""
    cohort(site, 1)
    first = Digest.objects.create(user=coordinator, date=DAY, period_start=DAY)
    transition = Transition.objects.get()
    TransitionDelivery.objects.create(transition=transition, user=coordinator, digest=first)
    with time_machine.travel(DAY + timedelta(days=1), tick=False):
        assert digests_send() == {"empty": 1}
    assert TransitionDelivery.objects.get().digest == first
