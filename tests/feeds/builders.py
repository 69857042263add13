"""HL7 v2 messages as a radiology information system sends them, for the feed's tests."""

import itertools
from datetime import date

FACILITY = "NORTH_RIS"
_ids = itertools.count(1)

MG_REPORT = (
    "BILATERAL DIAGNOSTIC MAMMOGRAM. Comparison is made with the prior examination. "
    "The breasts are heterogeneously dense (ACR c). In the left breast, upper outer quadrant, "
    "there are grouped fine pleomorphic calcifications spanning 14 mm, stable. "
    "No suspicious mass. IMPRESSION: BI-RADS 2: benign."
)


def control_id() -> str:
    return f"MSG{next(_ids):06d}"


def msh(kind: str, cid: str, *, facility: str = FACILITY, when: str = "20260301120000",
        charset: str = "") -> str:
    tail = "|" * 6 + charset if charset else ""
    return f"MSH|^~\\&|RIS|{facility}|TRACKER|TRACKER|{when}||{kind}|{cid}|P|2.5.1{tail}"


def pid(mrn: str, *, family: str = "Marsh", given: str = "Helen", dob: date | str = date(1975, 4, 2),
        authority: str = "NORTH") -> str:
    born = dob.strftime("%Y%m%d") if isinstance(dob, date) else dob
    return f"PID|1||{mrn}^^^{authority}^MR||{family}^{given}||{born}|F"


def adt(mrn: str, *, trigger: str = "A04", cid: str | None = None, when: str = "20260301120000",
        **person) -> str:
    return "\r".join([msh(f"ADT^{trigger}^ADT_A01", cid or control_id(), when=when), "EVN|" + trigger,
                      pid(mrn, **person), "PV1|1|O"])


def merge(survivor_mrn: str, prior_mrn: str, *, cid: str | None = None) -> str:
    return "\r".join([msh("ADT^A40^ADT_A39", cid or control_id()), "EVN|A40", pid(survivor_mrn),
                      f"MRG|{prior_mrn}^^^NORTH^MR"])


def oru(mrn: str, *, accession: str = "ACC1001", code: str = "77066", procedure: str = "MAMMO DIAG BILAT",
        observed: str = "20260301103000", report: str = MG_REPORT, birads: str | None = None,
        cid: str | None = None, when: str = "20260301120000", status: str = "F", charset: str = "",
        **person) -> str:
    lines = [msh("ORU^R01^ORU_R01", cid or control_id(), when=when, charset=charset), pid(mrn, **person),
             f"ORC|RE|PL{accession}|{accession}",
             f"OBR|1|PL{accession}|{accession}|{code}^{procedure}^CPT4|||{observed}||||||||||||||||||{status}"]
    n = 0
    for n, line in enumerate(report.split("\n"), start=1):
        lines.append(f"OBX|{n}|TX|18782-3^Radiology report^LN||{escape(line)}||||||{status}")
    if birads is not None:
        lines.append(f"OBX|{n + 1}|CWE|RDE1586^BI-RADS assessment^RADLEX||{birads}^BI-RADS {birads}"
                     f"||||||{status}")
    return "\r".join(lines)


def orm(mrn: str, *, placer: str = "PL5001", accession: str = "ACC5001", code: str = "77067",
        procedure: str = "SCREENING MAMMO", scheduled: str = "20260410090000", control: str = "NW",
        cid: str | None = None) -> str:
    return "\r".join([msh("ORM^O01^ORM_O01", cid or control_id()), pid(mrn),
                      f"ORC|{control}|{placer}|{accession}||||^^^{scheduled}",
                      f"OBR|1|{placer}|{accession}|{code}^{procedure}^CPT4"])


def escape(text: str) -> str:
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
            .replace("~", "\\R\\"))
