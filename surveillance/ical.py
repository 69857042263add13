"""A minimal iCalendar (RFC 5545) writer for the coordinator's feed. Pure: no ORM.

All-day events (DTSTART;VALUE=DATE), stable UIDs, CRLF line ends, lines folded at 75
octets, text escaped (backslash, semicolon, comma, newline).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    day: date
    summary: str
    description: str = ""
    url: str = ""


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Fold a content line into 75-octet pieces, never splitting a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        limit = 75 if not out else 74  # continuation lines start with one space
        if size + n > limit:
            out.append(current)
            current, size = "", 0
        current += ch
        size += n
    out.append(current)
    return "\r\n ".join(out)


def calendar_text(events: Iterable[CalendarEvent], *, name: str, stamp: datetime) -> str:
    dtstamp = stamp.strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Breast Surveillance Tracker//Worklist//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}"]
    for e in events:
        end = e.day + timedelta(days=1)  # DTEND of an all-day event is exclusive
        lines += ["BEGIN:VEVENT", f"UID:{e.uid}", f"DTSTAMP:{dtstamp}",
                  f"DTSTART;VALUE=DATE:{e.day:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}",
                  f"SUMMARY:{escape(e.summary)}", "TRANSP:TRANSPARENT"]
        if e.description:
            lines.append(f"DESCRIPTION:{escape(e.description)}")
        if e.url:
            lines.append(f"URL:{e.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
