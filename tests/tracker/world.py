"""A small world of one site's records, for the permission matrix and the sweeps.

One of everything a URL can point at: a patient with every kind of record (contact details
too), a draft and a signed study, an alert, a scheduled item with a contact, a letter and a
batch of letters (printed by the coordinator), a calendar token, plus the
personas (one per role and a radiologist of another site).
"""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import Group

from alerts.models import Alert
from alerts.services import alert_raise
from core import roles
from outreach.models import LetterKind
from outreach.services import letter_create, letters_for_worklist
from patients.models import ClinicalEvent, ContactDetails, Patient, Site
from patients.vocabulary import EventKind
from registry.models import RegistryUpload
from surveillance.models import ContactLog, ScheduledItem
from surveillance.services import calendar as cal
from surveillance.services.contacts import contact_log
from surveillance.services.sweep import surveillance_sweep
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import (
    ClinicVisitFactory,
    NacCourseFactory,
    PatientFactory,
    RadiotherapyFactory,
    SiteFactory,
    SurgeryFactory,
    UserFactory,
)

COLUMNS = ("anonymous", "clinic_staff", "radiologist", "coordinator", "admin", "other_site")


@dataclass
class World:
    site: Site
    other_site: Site
    users: dict = field(default_factory=dict)
    patient: Patient | None = None
    objects: dict = field(default_factory=dict)


def _persona(role: str, site: Site, username: str, *, staff: bool = False):
    user = UserFactory(username=username, is_staff=staff)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    site.members.add(user)
    return user


def build_world() -> World:
    site = SiteFactory(name="North Clinic", code="north")
    other = SiteFactory(name="South Clinic", code="south")
    w = World(site=site, other_site=other)
    w.users = {
        "clinic_staff": _persona(roles.CLINIC_STAFF, site, "staff"),
        "radiologist": _persona(roles.RADIOLOGIST, site, "radiologist"),
        "coordinator": _persona(roles.COORDINATOR, site, "coordinator"),
        "admin": _persona(roles.ADMIN, site, "siteadmin", staff=True),
        "other_site": _persona(roles.RADIOLOGIST, other, "outsider"),
    }
    patient = PatientFactory(site=site, date_of_birth=date(1961, 3, 14))
    w.patient = patient
    surgery = SurgeryFactory(patient=patient, date=date(2023, 1, 10), laterality="right")
    draft = ImagingStudyFactory(patient=patient, study_date=date(2023, 6, 1))
    final = ImagingStudyFactory(patient=patient, study_date=date(2023, 3, 1), final=True)
    alert, _ = alert_raise(patient_id=patient.id, rule="calc_reported_increase", severity="high",
                           breast="right", trigger=f"study:{final.id}", reason="matrix world",
                           study_id=final.id)
    surveillance_sweep()  # plans the patient: scheduled items
    item = ScheduledItem.objects.filter(patient=patient).order_by("due_date").first()
    assert item is not None, "the sweep planned no scheduled item"
    contact_log(item=item, by=w.users["coordinator"], outcome=ContactLog.Outcome.CALLED, note="")
    ContactDetails.objects.create(patient=patient, address_line1="1 Mill Lane", postal_code="LS1 1AA",
                                  may_write=True, consent_recorded_on=date(2023, 1, 10))
    letter = letter_create(kind=LetterKind.DUE_REMINDER, patient=patient, by=w.users["coordinator"],
                           items=[item])
    batch = letters_for_worklist(items=[item], by=w.users["coordinator"])
    w.objects = {
        "surgery": surgery,
        "nac": NacCourseFactory(patient=patient),
        "radiotherapy": RadiotherapyFactory(patient=patient),
        "visit": ClinicVisitFactory(patient=patient),
        "event": ClinicalEvent.objects.create(patient=patient, kind=EventKind.values[0],
                                              date=date(2024, 2, 1)),
        "draft_study": draft,
        "final_study": final,
        "alert": Alert.objects.get(pk=alert.pk),
        "item": item,
        "calendar_token": cal.calendar_token_create(user=w.users["coordinator"]),
        "letter": letter,
        "letter_batch": batch,
        "feed_message": _held_feed_message(site),
        "biopsy": _biopsy_follow_up(patient, final),
        # The administrator's checked registry upload (its file already gone).
        "registry_upload": RegistryUpload.objects.create(uploaded_by=w.users["admin"], status="checked",
                                                         report={"rows": 0, "problems": [], "table": []}),
    }
    return w


def _held_feed_message(site):
    """A report for an MRN the site does not know: held in the reconciliation queue."""
    from feeds.models import FeedSource, Message
    from feeds.services import receive
    from feeds.services.common import clear_configuration
    from tests.feeds import builders

    FeedSource.objects.create(sending_facility=builders.FACILITY, site=site)
    clear_configuration()
    receive(builders.oru("MATRIX-1", accession="ACC-MATRIX").encode())
    return Message.objects.get(control_id__isnull=False, mrn="MATRIX-1")
def _biopsy_follow_up(patient, study):
    """A biopsy follow-up (surveillance), of its own alert: the world's alert stays open."""
    from surveillance.models import BiopsyFollowUp

    ordered, _ = alert_raise(patient_id=patient.id, rule="birads_suspicious", severity="high", breast="right",
                             trigger=f"study:{study.id}", reason="matrix world biopsy", study_id=study.id)
    return BiopsyFollowUp.objects.create(patient=patient, alert_id=ordered.pk, ordered_on=date(2023, 3, 10),
                                         due_date=date(2023, 4, 9))
