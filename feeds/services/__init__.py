"""Processing hospital messages: `receive` (the listener's), reprocessing and the queue."""

from .intake import message_reprocess, receive
from .reconcile import held_close, held_match, held_register

__all__ = ["held_close", "held_match", "held_register", "message_reprocess", "receive"]
