"""Item 9: ORU messages per second through the real listener, over TCP, into the database."""

from datetime import date

import pytest

from bench import feed
from bench.report import MIN_HL7_ORU_PER_S
from feeds.models import Message
from feeds.services.common import clear_configuration
from imaging.models import ImagingStudy

# serialized_rollback, as the other tests of real processes: a plain flush afterwards re-runs
# post_migrate, whose roles then collide with the rows the browser and worker tests restore.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_hl7_row_sends_over_mllp_checks_every_ack_and_cleans_up():
    clear_configuration()
    row = feed.hl7_row(messages=40, connections=2, patients=10, warm_up=5)
    assert row.item == "9" and row.unit == "messages/s" and row.rate > 0
    assert row.checks[0].label == f"≥{MIN_HL7_ORU_PER_S:,} messages/s"
    assert row.status in ("PASS", "MISS")
    # The bench's messages and drafts are removed: a rerun files new ones.
    assert not Message.objects.filter(sending_facility=feed.FACILITY).exists()
    assert not ImagingStudy.objects.filter(patient__site__code=feed.SITE_CODE).exists()


def test_every_message_is_a_report_with_findings_to_propose():
    text = feed.oru(0, "T", "BF00001", date(1960, 1, 1))
    assert "ORU^R01" in text and "calcifications" in text
