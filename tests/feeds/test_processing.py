"""What each message does to the records, through `feeds.services.receive` (the listener's
function; tests/feeds/test_listener.py drives the same over real TCP)."""

from datetime import date, timedelta

import hl7
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent
from feeds.models import Message, Order, ProcedureCode
from feeds.services import held_close, held_match, held_register, message_reprocess, receive
from imaging.models import ImagingStudy, StudyProposal
from imaging.services import study_finalize
from patients.models import Patient
from surveillance.models import ScheduledItem
from tests.feeds import builders as b
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def send(text: str) -> hl7.Message:
    reply = receive(text.encode("utf-8"))
    assert reply is not None
    return hl7.parse(reply.decode())


def code(ack: hl7.Message) -> str:
    return str(ack.segment("MSA")[1])


def reason(ack: hl7.Message) -> str:
    return ack.unescape(str(ack.segment("MSA")[3]))


def counts() -> tuple[int, int, int]:
    return Patient.objects.count(), ImagingStudy.objects.count(), Order.objects.count()


# --- ADT ---------------------------------------------------------------------------------


def test_a04_registers_the_patient_at_the_sources_site(feed_source, site):
    ack = send(b.adt("NC-7", family="Marsh", given="Helen", dob=date(1975, 4, 2)))
    assert code(ack) == "AA"
    patient = Patient.objects.get(mrn="NC-7")
    assert (patient.site, patient.family_name, patient.given_name, patient.date_of_birth) == (
        site, "Marsh", "Helen", date(1975, 4, 2))
    message = Message.objects.get()
    assert (message.status, message.patient, message.site) == (Message.Status.PROCESSED, patient, site)
    assert AuditEvent.objects.filter(action=Action.IMPORT, object_id=str(message.pk),
                                     patient_id=patient.pk).exists()


def test_a08_updates_and_an_older_a08_arriving_late_is_not_applied(feed_source):
    send(b.adt("NC-8", family="Marsh", when="20260301100000"))
    send(b.adt("NC-8", trigger="A08", family="Marsh-Reed", when="20260301120000"))
    late = send(b.adt("NC-8", trigger="A08", family="Old-Name", when="20260301110000"))
    assert code(late) == "AA"
    assert "not applied" in reason(late)
    assert Patient.objects.get(mrn="NC-8").family_name == "Marsh-Reed"


def test_a08_for_an_unknown_patient_registers_her(feed_source):
    assert code(send(b.adt("NC-9", trigger="A08"))) == "AA"
    assert Patient.objects.filter(mrn="NC-9").exists()


@pytest.mark.parametrize(("person", "where"), [
    ({"dob": ""}, "PID-7"),
    ({"dob": "19751302"}, "PID-7"),
    ({"family": ""}, "PID-5"),
    ({"dob": (date.today() + timedelta(days=30))}, "PID-7"),
])
def test_adt_with_bad_demographics_is_an_error_naming_the_field_and_writes_no_patient(feed_source, person,
                                                                                     where):
    ack = send(b.adt("NC-10", **person))
    assert code(ack) == "AE"
    assert where in reason(ack) or where in str(ack.segment("ERR"))
    assert Patient.objects.count() == 0
    assert Message.objects.get().status == Message.Status.ERROR


def test_other_adt_events_are_accepted_and_not_used(feed_source):
    ack = send(b.adt("NC-11", trigger="A03"))
    assert code(ack) == "AA"
    assert Message.objects.get().status == Message.Status.IGNORED
    assert Patient.objects.count() == 0


def test_a40_merges_the_prior_record_into_the_survivor(feed_source, site):
    send(b.adt("NC-20"))
    send(b.adt("TMP-1"))
    send(b.oru("TMP-1", accession="ACC-M1"))
    ack = send(b.merge("NC-20", "TMP-1"))
    assert code(ack) == "AA"
    survivor = Patient.objects.get()
    assert survivor.mrn == "NC-20"
    assert ImagingStudy.objects.get().patient == survivor


def test_a40_without_a_survivor_renames_the_prior_mrn(feed_source):
    send(b.adt("TMP-2"))
    assert code(send(b.merge("NC-21", "TMP-2"))) == "AA"
    assert list(Patient.objects.values_list("mrn", flat=True)) == ["NC-21"]


def test_a40_where_both_records_have_the_same_accession_is_held_and_nothing_moves(feed_source):
    send(b.adt("NC-22"))
    send(b.adt("TMP-3"))
    send(b.oru("NC-22", accession="ACC-DUP"))
    send(b.oru("TMP-3", accession="ACC-DUP"))
    ack = send(b.merge("NC-22", "TMP-3"))
    assert code(ack) == "AA"
    message = Message.objects.get(message_type="ADT^A40")
    assert (message.status, message.hold_reason) == (Message.Status.HELD, Message.HoldReason.MERGE_CONFLICT)
    assert Patient.objects.count() == 2
    assert ImagingStudy.objects.filter(patient__mrn="TMP-3").count() == 1


# --- ORU ---------------------------------------------------------------------------------


def test_oru_files_a_draft_study_with_proposed_findings(feed_source):
    send(b.adt("NC-30"))
    ack = send(b.oru("NC-30", accession="ACC-30", observed="20260301103000"))
    assert code(ack) == "AA"
    study = ImagingStudy.objects.get()
    assert (study.accession, study.study_date, study.modality, study.laterality, study.status) == (
        "ACC-30", date(2026, 3, 1), "MG", "bilateral", "draft")
    assert "fine pleomorphic" in study.report_text
    assert study.birads == ""  # not from the text: the proposal holds it until a person confirms
    assert study.created_by.username == "hl7-feed"
    proposal = StudyProposal.objects.get(study=study).proposal
    assert proposal["birads"] == "2"
    assert proposal["calcifications"][0]["morphology"] == "fine_pleomorphic"
    assert not study.calcifications.exists()  # proposals are never findings by themselves
    assert Message.objects.get(message_type="ORU^R01").study == study
    created = AuditEvent.objects.get(object_type="imaging.ImagingStudy", object_id=str(study.pk))
    assert (created.action, created.actor_username, created.patient_id) == (Action.CREATE, "hl7-feed",
                                                                            study.patient_id)


# The statements one report costs (docs/performance.md, row 9): the transaction (2), the
# message row claiming its control ID and completed (2), the patient with her treatment dates
# and the accession, both locked (2), the study and its audit event (2), its proposal, the
# orders it completes, the message's audit event (3). No duplicate check first, and no
# savepoint: not around the processing, nor around the new study's writes.
ORU_STATEMENTS = 11


def test_a_report_costs_the_same_few_statements_however_much_is_on_file(feed_source):
    send(b.adt("NC-31"))
    send(b.oru("NC-31", accession="ACC-31-0"))  # the feed's configuration is read once per process
    for n in range(1, 4):
        with CaptureQueriesContext(connection) as queries:
            assert code(send(b.oru("NC-31", accession=f"ACC-31-{n}"))) == "AA"
        assert len(queries) == ORU_STATEMENTS, [q["sql"][:80] for q in queries.captured_queries]
    assert ImagingStudy.objects.filter(patient__mrn="NC-31").count() == 4


def test_birads_from_an_obx_is_the_drafts_value(feed_source):
    send(b.adt("NC-31"))
    send(b.oru("NC-31", birads="4A"))
    assert ImagingStudy.objects.get().birads == "4A"


def test_an_invalid_birads_obx_is_an_error_and_files_nothing(feed_source):
    send(b.adt("NC-32"))
    ack = send(b.oru("NC-32", birads="7"))
    assert code(ack) == "AE"
    assert "BI-RADS" in reason(ack)
    assert ImagingStudy.objects.count() == 0


@pytest.mark.parametrize(("code_", "procedure", "modality", "laterality"), [
    ("77049", "MRI BREAST BILAT W CONTRAST", "MR", "bilateral"),
    ("77065", "MAMMO DIAG LEFT", "MG", "left"),
    ("76641", "US BREAST RT COMPLETE", "US", "right"),
    ("LOCAL9", "BREAST MRI LT", "MR", "left"),  # not in the table: read from the procedure's name
])
def test_procedure_code_maps_modality_and_laterality(feed_source, code_, procedure, modality, laterality):
    send(b.adt("NC-33"))
    send(b.oru("NC-33", code=code_, procedure=procedure, report="Findings: no suspicious abnormality."))
    study = ImagingStudy.objects.get()
    assert (study.modality, study.laterality) == (modality, laterality)


def test_an_unknown_procedure_is_an_error_until_an_admin_maps_it_then_processed_again(feed_source,
                                                                                    site_admin):
    send(b.adt("NC-34"))
    ack = send(b.oru("NC-34", code="ZZ1", procedure="CHEST XRAY"))
    assert code(ack) == "AE"
    assert "Procedure codes" in reason(ack)
    assert ImagingStudy.objects.count() == 0
    ProcedureCode.objects.create(code="ZZ1", modality="MG", laterality="bilateral")
    message = message_reprocess(message=Message.objects.get(status="error"), by=site_admin)
    assert (message.status, message.resolved_by) == (Message.Status.PROCESSED, site_admin)
    assert ImagingStudy.objects.get().modality == "MG"


@pytest.mark.parametrize(("kwargs", "where"), [
    ({"accession": ""}, "OBR-3"),
    ({"observed": ""}, "OBR-7"),
    ({"observed": "2026-03-01"}, "OBR-7"),
    ({"observed": "19000101"}, "OBR-7"),  # before the patient's birth: the study's own rule
])
def test_oru_with_bad_fields_is_an_error_and_writes_nothing(feed_source, kwargs, where):
    send(b.adt("NC-35"))
    before = counts()
    ack = send(b.oru("NC-35", **kwargs))
    assert code(ack) == "AE"
    assert where in reason(ack) or where in str(ack.segment("ERR"))
    assert counts() == before
    assert not StudyProposal.objects.exists()


def test_a_second_report_for_the_accession_updates_the_draft_and_keeps_entered_findings(feed_source,
                                                                                     radiologist):
    from imaging.services import study_save_draft

    send(b.adt("NC-36"))
    send(b.oru("NC-36", accession="ACC-36", when="20260301120000"))
    study = ImagingStudy.objects.get()
    study_save_draft(patient=study.patient, by=radiologist, study=study, data={}, calcifications=[{
        "group": "L1", "laterality": "left", "morphology": "amorphous", "distribution": "grouped",
        "extent_mm": 5, "count_bin": "1-5",
        "inside_tumor_bed": True}])
    ack = send(b.oru("NC-36", accession="ACC-36", when="20260301130000", report="Addendum: unchanged."))
    assert code(ack) == "AA"
    study.refresh_from_db()
    assert study.report_text == "Addendum: unchanged."
    assert study.calcifications.count() == 1


def test_a_report_changed_after_signing_is_held_for_an_amendment(feed_source, radiologist):
    send(b.adt("NC-37"))
    send(b.oru("NC-37", accession="ACC-37", when="20260301120000", birads="2"))
    study = ImagingStudy.objects.get()
    study_finalize(study=study, by=radiologist)
    ack = send(b.oru("NC-37", accession="ACC-37", when="20260301130000", report="Corrected: left 4A."))
    assert code(ack) == "AA"
    message = Message.objects.filter(status="held").get()
    assert message.hold_reason == Message.HoldReason.STUDY_SIGNED
    study.refresh_from_db()
    assert study.report_text != "Corrected: left 4A."
    held_close(message=message, by=radiologist, note="Amended by hand")
    message.refresh_from_db()
    assert message.status == Message.Status.IGNORED


def test_an_oru_before_its_adt_is_held_then_filed_when_the_adt_arrives(feed_source):
    ack = send(b.oru("NC-40", accession="ACC-40"))
    assert code(ack) == "AA"
    held = Message.objects.get()
    assert (held.status, held.hold_reason, held.mrn) == (Message.Status.HELD, Message.HoldReason.UNMATCHED,
                                                         "NC-40")
    assert ImagingStudy.objects.count() == 0
    adt_ack = send(b.adt("NC-40"))
    assert "1 held message" in reason(adt_ack)
    held.refresh_from_db()
    assert held.status == Message.Status.PROCESSED
    assert ImagingStudy.objects.get().patient.mrn == "NC-40"


def test_an_mrn_with_another_date_of_birth_is_held_never_filed(feed_source, site):
    PatientFactory(site=site, mrn="NC-41", date_of_birth=date(1960, 1, 1))
    send(b.oru("NC-41", dob=date(1975, 4, 2)))
    message = Message.objects.get()
    assert message.hold_reason == Message.HoldReason.DOB_MISMATCH
    assert ImagingStudy.objects.count() == 0


def test_staff_match_a_held_message_and_every_message_of_its_mrn_follows(feed_source, site, clinic_staff):
    patient = PatientFactory(site=site, mrn="OLD-1", date_of_birth=date(1975, 4, 2))
    send(b.oru("NEW-1", accession="ACC-50"))
    send(b.oru("NEW-1", accession="ACC-51"))
    first = Message.objects.order_by("id").first()
    done = held_match(message=first, patient=patient, by=clinic_staff)
    assert [m.status for m in done] == [Message.Status.PROCESSED] * 2
    assert set(patient.studies.values_list("accession", flat=True)) == {"ACC-50", "ACC-51"}
    assert all(m.resolved_by == clinic_staff for m in done)


def test_staff_register_the_patient_of_a_held_message(feed_source, site, clinic_staff):
    send(b.oru("NEW-2", accession="ACC-52"))
    patient = held_register(message=Message.objects.get(), by=clinic_staff, data={
        "family_name": "Marsh", "given_name": "Helen", "date_of_birth": date(1975, 4, 2)})
    assert (patient.mrn, patient.site) == ("NEW-2", site)
    assert patient.studies.get().accession == "ACC-52"


def test_a_patient_of_another_site_cannot_be_matched(feed_source, other_site, clinic_staff):
    from django.core.exceptions import PermissionDenied

    elsewhere = PatientFactory(site=other_site, mrn="X-1")
    send(b.oru("NEW-3"))
    with pytest.raises(PermissionDenied):
        held_match(message=Message.objects.get(), patient=elsewhere, by=clinic_staff)
    assert ImagingStudy.objects.count() == 0


# --- Idempotency, refusals ------------------------------------------------------------------


def test_a_duplicate_is_acknowledged_again_and_processed_once(feed_source):
    send(b.adt("NC-60"))
    text = b.oru("NC-60", cid="DUP-1")
    first, second = send(text), send(text)
    assert code(first) == code(second) == "AA"
    assert str(second.segment("MSA")[2]) == "DUP-1"
    assert ImagingStudy.objects.count() == 1
    assert Message.objects.get(control_id="DUP-1").deliveries == 2


def test_a_refused_report_is_kept_with_why_and_its_control_id_can_be_sent_again_fixed(feed_source):
    send(b.adt("NC-63"))
    assert code(send(b.oru("NC-63", cid="FIX-1", birads="7"))) == "AE"
    kept = Message.objects.get(control_id="FIX-1")  # its claim was rolled back with its writes
    assert (kept.status, kept.ack_code, kept.mrn, kept.site) == ("error", "AE", "NC-63", feed_source.site)
    assert "BI-RADS" in kept.detail
    assert AuditEvent.objects.filter(object_type="feeds.Message", object_id=str(kept.pk)).count() == 1
    assert (ImagingStudy.objects.count(), AuditEvent.objects.filter(object_type="imaging.ImagingStudy")
            .count()) == (0, 0)
    assert code(send(b.oru("NC-63", cid="FIX-1", birads="4A"))) == "AA"
    assert ImagingStudy.objects.get().birads == "4A"
    assert Message.objects.filter(control_id="FIX-1").count() == 2


def test_a_reused_control_id_with_other_content_is_rejected_and_kept(feed_source):
    send(b.adt("NC-61", cid="SAME-1"))
    ack = send(b.adt("NC-62", cid="SAME-1"))
    assert code(ack) == "AR"
    assert "MSH-10" in reason(ack)
    assert list(Patient.objects.values_list("mrn", flat=True)) == ["NC-61"]
    assert Message.objects.filter(control_id="SAME-1").count() == 2


@pytest.mark.parametrize(("text", "words"), [
    ("PID|1||X", "MSH"),
    (b.msh("ZZZ^Z01", "U1") + "\rPID|1||X", "ZZZ"),
    (b.msh("SIU^S12", "U2"), "SIU"),
    (b.msh("ORU^R30", "U3"), "ORU^R30"),
    (b.msh("ORU^R01", ""), "MSH-10"),
    (b.msh("ORU^R01", "U4").replace("2.5.1", "3.0"), "MSH-12"),
    (b.msh("ADT^A04", "U5") + "\rPID|1||X\rthis is not a segment", "Segment 3"),
    (b.msh("ADT^A04", "U6", charset="KLINGON"), "MSH-18"),
    (b.msh("ADT^A04", "U7", facility="UNKNOWN_RIS") + "\r" + b.pid("X"), "UNKNOWN_RIS"),
])
def test_unreadable_or_unsupported_messages_are_rejected_with_the_reason_and_kept(feed_source, text, words):
    ack = send(text)
    assert code(ack) == "AR"
    assert words in reason(ack)
    assert str(ack.segment("ERR")[3]).startswith("200")
    message = Message.objects.get()
    assert (message.status, message.ack_code) == (Message.Status.REJECTED, "AR")
    assert bytes(message.raw) == text.encode()
    assert Patient.objects.count() == 0


def test_a_latin1_message_is_rejected_unless_msh18_declares_it(feed_source):
    undeclared = b.adt("NC-70", family="Lefèvre").encode("latin-1")
    ack = hl7.parse(receive(undeclared).decode())
    assert code(ack) == "AR"
    assert "MSH-18" in reason(ack)
    declared = b.adt("NC-71", family="Lefèvre").replace("P|2.5.1", "P|2.5.1||||||8859/1").encode("latin-1")
    ack = hl7.parse(receive(declared).decode())
    assert code(ack) == "AA"
    assert Patient.objects.get().family_name == "Lefèvre"


def test_an_oversized_message_is_rejected_and_its_beginning_kept(feed_source):
    text = b.adt("NC-72", cid="BIG-1").encode()
    ack = hl7.parse(receive(text[:100], size=5_000_000, limit=1_000_000).decode())
    assert code(ack) == "AR"
    assert str(ack.segment("MSA")[2]) == "BIG-1"
    assert "5,000,000" in reason(ack)
    message = Message.objects.get()
    assert (message.size, message.status) == (5_000_000, Message.Status.REJECTED)
    assert Patient.objects.count() == 0


# --- Orders ----------------------------------------------------------------------------------


def test_an_order_links_to_the_pending_surveillance_item_in_its_window(feed_source, site):
    patient = PatientFactory(site=site, mrn="NC-80", date_of_birth=date(1975, 4, 2))
    due = date(2026, 4, 1)
    item = ScheduledItem.objects.create(
        patient=patient, kind=ScheduledItem.Kind.MAMMOGRAM, laterality="bilateral", due_date=due,
        interval_months=12, due_from=due - timedelta(days=30), overdue_after=due + timedelta(days=60),
        lost_after_date=due + timedelta(days=425), window_start=due - timedelta(days=120),
        window_end=due + timedelta(days=120))
    ack = send(b.orm("NC-80", placer="PL-80", accession="ACC-80", scheduled="20260410090000"))
    assert code(ack) == "AA"
    order = Order.objects.get()
    assert (order.scheduled_item, order.scheduled_for, order.modality) == (item, date(2026, 4, 10), "MG")
    send(b.oru("NC-80", accession="ACC-80"))
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert order.study == ImagingStudy.objects.get()
    send(b.orm("NC-80", placer="PL-80", control="CA"))
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_an_order_for_an_unknown_patient_is_held(feed_source):
    send(b.orm("NC-81"))
    assert Message.objects.get().hold_reason == Message.HoldReason.UNMATCHED
    assert Order.objects.count() == 0


def test_an_older_report_arriving_after_a_newer_one_is_kept_not_applied(feed_source):
    send(b.adt("NC-90"))
    send(b.oru("NC-90", accession="ACC-90", when="20260301130000", report="Final report: BI-RADS 2."))
    late = send(b.oru("NC-90", accession="ACC-90", when="20260301120000", report="Preliminary: BI-RADS 0.",
                      status="P"))
    assert code(late) == "AA"
    assert "not applied" in reason(late)
    assert ImagingStudy.objects.get().report_text == "Final report: BI-RADS 2."
    assert Message.objects.filter(message_type="ORU^R01").count() == 2


def test_a_cancelled_result_files_nothing(feed_source):
    send(b.adt("NC-91"))
    ack = send(b.oru("NC-91", status="X"))
    assert code(ack) == "AA" and "cancelled" in reason(ack)
    assert ImagingStudy.objects.count() == 0


@pytest.mark.parametrize(("dob", "accepted"), [(date(2014, 3, 2), True), (date(2014, 3, 3), False)])
def test_an_a08_date_of_birth_is_held_to_the_clinical_rules(feed_source, site, dob, accepted):
    """The feed writes through the same rules as the pages: a date of birth on or after the
    recorded diagnosis is refused, naming PID-7, and the record keeps its date."""
    from tests.patients.factories import TumourProfileFactory
    patient = PatientFactory(site=site, mrn="NC-90", family_name="Marsh", given_name="Helen",
                             date_of_birth=date(1975, 4, 2))
    TumourProfileFactory(patient=patient, diagnosis_date=date(2014, 3, 3))
    ack = send(b.adt("NC-90", trigger="A08", dob=dob))
    patient.refresh_from_db()
    if accepted:
        assert code(ack) == "AA" and patient.date_of_birth == dob
    else:
        assert code(ack) == "AE"
        assert "PID-7" in reason(ack) and "before the diagnosis (3 Mar 2014)" in reason(ack)
        assert patient.date_of_birth == date(1975, 4, 2)
