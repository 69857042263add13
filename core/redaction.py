"""Secrets that travel in URLs, and how to write a URL without them.

The calendar feed's URL holds its secret token (calendar apps cannot send headers): logs
and the audit trail write `[redacted]` in its place.
"""

import re

CALENDAR_TOKEN = re.compile(r"(/worklist/calendar/)[^/\s?\"']+(\.ics)")


def redact(text: str) -> str:
    return CALENDAR_TOKEN.sub(r"\1[redacted]\2", text)
