"""Reading HL7 v2 messages (python-hl7) and writing their acknowledgements. Pure: no database.

Checks what must hold before anything is written, and says precisely what is wrong:
the character set (MSH-18), the segment structure, the header fields the tracker needs.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import hl7
from django.utils import timezone

# HL7 table 0211 (MSH-18) → Python codec. Empty MSH-18: UTF-8 (a superset of ASCII, the
# standard's default); a byte that is not UTF-8 is then refused, never guessed.
CHARSETS = {
    "": "utf-8", "ASCII": "ascii", "UNICODE UTF-8": "utf-8", "UTF-8": "utf-8", "UTF8": "utf-8",
    "8859/1": "latin-1", "8859/15": "iso8859-15", "8859/2": "iso8859-2", "8859/5": "iso8859-5",
    "8859/7": "iso8859-7", "8859/9": "iso8859-9", "WINDOWS-1252": "cp1252", "CP1252": "cp1252",
}
SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")
RECEIVING_APPLICATION = "TRACKER"
RECEIVING_FACILITY = "TRACKER"


class FeedError(Exception):
    """A message the tracker cannot take: `code` AR (reject) or AE (error), a reason for the
    sender, and the field it concerns (`where`, e.g. "PID-7") for the ERR segment."""

    def __init__(self, code: str, reason: str, where: str = ""):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.where = where


def reject(reason: str, where: str = "") -> FeedError:
    return FeedError("AR", reason, where)


def error(reason: str, where: str = "") -> FeedError:
    return FeedError("AE", reason, where)


@dataclass(frozen=True)
class Header:
    """MSH fields read from the raw bytes, before (and whatever the outcome of) decoding."""

    control_id: str = ""
    sending_application: str = ""
    sending_facility: str = ""
    message_type: str = ""
    message_time: datetime | None = None
    charset: str = ""


def read_header(raw: bytes) -> Header:
    """The MSH fields, read byte-wise (latin-1 keeps every byte), tolerant of anything after
    them; an empty Header when the message does not start with MSH."""
    text = raw[:4096].decode("latin-1")
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if not first.startswith("MSH") or len(first) < 8:
        return Header()
    sep, comp = first[3], first[4]
    fields = first.split(sep)
    # fields[0] is "MSH" and MSH-1 is the separator itself: MSH-n is fields[n - 1].

    def f(n: int, component: int | None = 1) -> str:
        value = fields[n - 1] if len(fields) >= n else ""
        return value.split(comp)[component - 1].strip() if component else value.strip()

    msg_type = "^".join(p for p in f(9, None).split(comp)[:2] if p)
    return Header(control_id=f(10)[:199], sending_application=f(3)[:100],
                  sending_facility=f(4)[:100], message_type=msg_type[:20],
                  message_time=parse_datetime(f(7)), charset=f(18).upper())


def decode(raw: bytes, header: Header) -> tuple[str, str]:
    """(text, codec) as MSH-18 declares; AR when it names an unknown character set or the
    bytes are not in it."""
    codec = CHARSETS.get(header.charset)
    if codec is None:
        raise reject(f"MSH-18 names the character set '{header.charset}', which the tracker does not "
                     f"read; use UNICODE UTF-8 or 8859/1.", "MSH-18")
    try:
        return raw.decode(codec), codec
    except UnicodeDecodeError as exc:
        declared = header.charset or "empty, so UTF-8"
        raise reject(f"Byte {exc.start + 1} (0x{raw[exc.start]:02X}) is not valid {codec} "
                     f"(MSH-18 is {declared}); declare the message's character set in MSH-18, "
                     f"e.g. 8859/1.", "MSH-18") from exc


def parse(text: str) -> hl7.Message:
    """The parsed message; AR for a structure python-hl7 would misread."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    segments = [s for s in text.split("\r") if s.strip()]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        raise reject("The message does not begin with an MSH segment.", "MSH")
    sep = segments[0][3]
    for i, segment in enumerate(segments, start=1):
        name = segment.split(sep, 1)[0]
        if not SEGMENT_NAME.match(name):
            shown = name[:12].encode("unicode_escape").decode()
            raise reject(f"Segment {i} does not start with a segment name ('{shown}'): "
                         "segments are separated by carriage returns and named by three capitals.",
                         f"segment {i}")
    try:
        return hl7.parse("\r".join(segments))
    except Exception as exc:  # python-hl7 raises plain exceptions on bad structure
        raise reject(f"The message cannot be parsed: {exc}.", "MSH") from exc


class Reader:
    """Field access by HL7 position (segment name and number, field, repetition, component,
    sub-component) through python-hl7's `extract_field`: "" for anything absent, unescaped
    (python-hl7 keeps escape sequences as sent)."""

    def __init__(self, message: hl7.Message):
        self.message = message
        self.repetition = message.separators[2] if len(message.separators) > 2 else "~"

    def count(self, name: str) -> int:
        try:
            return len(self.message.segments(name))
        except KeyError:
            return 0

    def has(self, name: str) -> bool:
        return self.count(name) > 0

    def value(self, name: str, field: int, rep: int = 1, comp: int = 1, sub: int = 1,
              number: int = 1) -> str:
        try:
            text = self.message.extract_field(name, number, field, rep, comp, sub)
        except (IndexError, KeyError):
            return ""
        text = str(text)
        return (self.message.unescape(text) if "\\" in text else text).strip()

    def reps(self, name: str, field: int, number: int = 1) -> int:
        try:
            segment = self.message.segments(name)[number - 1]
            return len(str(segment[field]).split(self.repetition)) if str(segment[field]) else 0
        except (IndexError, KeyError):
            return 0

    def text(self, name: str, field: int, number: int = 1) -> str:
        """A text field with every repetition on its own line (OBX-5 of TX / FT), with the
        formatting escape \\.br\\ read as a line break (python-hl7 unescapes it to CR)."""
        try:
            raw = str(self.message.segments(name)[number - 1][field])
        except (IndexError, KeyError):
            return ""
        lines = [self.message.unescape(part).replace("\r", "\n") for part in raw.split(self.repetition)]
        return "\n".join(lines)

    def segment_names(self) -> list[str]:
        return [str(segment[0]) for segment in self.message]


def parse_datetime(value: str) -> datetime | None:
    """An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]) as an aware datetime, or None."""
    match = re.fullmatch(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?",
                         value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        naive = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                         int(second or 0))
    except ValueError:
        return None
    if zone:
        sign = 1 if zone[0] == "+" else -1
        offset = dt_timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])))
        return naive.replace(tzinfo=offset)
    return timezone.make_aware(naive) if naive.year > 1900 else None


def parse_date(value: str) -> date | None:
    """The date of an HL7 DT/DTM, as the sender wrote it (no time zone shift), or None."""
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})\d*(?:\.\d+)?(?:[+-]\d{4})?", value.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def ack(message: hl7.Message | None, header: Header, code: str, text: str = "",
        where: str = "") -> bytes:
    """The ACK for a message: MSH, MSA (code, its control ID, the reason), and ERR for AE/AR.

    Built with python-hl7's `create_ack` when the message parsed; by hand otherwise (the
    sender still learns why, with its control ID when the header could be read).
    """
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    ack_id = f"ACK{uuid.uuid4().hex[:17]}"  # the ACK's own control ID; MSA-2 names the message
    if message is not None:
        reply = message.create_ack(code, message_id=ack_id, application=RECEIVING_APPLICATION,
                                   facility=RECEIVING_FACILITY)
        lines = str(reply).rstrip("\r").split("\r")
        escape = message.escape
    else:
        msh = "|".join(["MSH", "^~\\&", RECEIVING_APPLICATION, RECEIVING_FACILITY,
                        _esc(header.sending_application), _esc(header.sending_facility), stamp, "",
                        "ACK", ack_id, "P", "2.5.1"])
        lines = [msh, f"MSA|{code}|{_esc(header.control_id)}"]
        escape = _esc
    if text:
        lines[1] = f"{lines[1]}|{escape(text[:500])}"
    if code != "AA":
        severity = "E"
        location = escape(where) if where else ""
        lines.append(f"ERR||{location}|{'207' if code == 'AE' else '200'}|{severity}||||{escape(text[:500])}")
    return ("\r".join(lines) + "\r").encode("utf-8")


def _esc(value: str) -> str:
    return (value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\").replace("\r", " ").replace("\n", " "))
