"""Changing a surveillance protocol (admins, in the Django admin)."""

from django.db import transaction

from outbox.models import Event
from outbox.services import event_write

from ..models import Protocol


@transaction.atomic
def protocol_save(protocol: Protocol) -> Protocol:
    """Save the protocol; every plan built on it is then refreshed (`surveillance.handlers`)."""
    protocol.full_clean()
    protocol.save()
    event_write(kind=Event.Kind.PROTOCOL_CHANGED, patient_id=None, object_id=protocol.pk)
    return protocol


@transaction.atomic
def protocol_delete(protocol: Protocol) -> None:
    """Delete a site's protocol: its patients' plans move to the default protocol."""
    protocol_id = protocol.pk
    protocol.delete()
    event_write(kind=Event.Kind.PROTOCOL_CHANGED, patient_id=None, object_id=protocol_id)
