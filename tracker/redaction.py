"""Keeping patient details and secrets out of the logs.

Query strings can hold what a user typed (a name or an MRN in the patient search), so the
access log never shows them; the calendar feed's URL holds its secret token, which is
replaced by `[redacted]` in the access log and in Django's own log lines ("Not Found: …").
"""

import logging

from gunicorn.glogging import Logger

from core.redaction import redact


class RedactingFilter(logging.Filter):
    """A logging filter: the record's message with calendar tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log atoms hold no query string, no referrer (it
    carries the previous page's query string) and no calendar token."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact(atoms.get("U", ""))
        atoms.update({"U": path, "q": "", "f": "-",
                      "r": f"{atoms.get('m', '-')} {path} {atoms.get('H', '-')}"})
        return atoms
