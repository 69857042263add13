"""Contact details of the demo patients and the demo sites' letter templates (idempotent).

Varied on purpose, so the worklist shows every case: most patients can be phoned and
written to, in English, French or Spanish; some refuse voicemail, a few have no address,
consent or details at all (their letters are refused, with the reason).
"""

import zlib
from datetime import date

from outreach.models import LetterTemplate
from patients.models import ContactDetails, Patient, Site

STREETS = ("Mill Lane", "Station Road", "Church Street", "Park Avenue", "Victoria Road", "Queen Street")
TOWNS = {"north": ("Leeds", "LS"), "south": ("Bristol", "BS")}
GPS = (
    ("Dr Anna Price", "Mill Lane Surgery", "1 Mill Lane"),
    ("Dr Tom Ellis", "Park Medical Centre", "8 Park Row"),
    ("Dr Mei Chen", "Riverside Practice", "22 Riverside"),
)
LANGUAGES = ("en-gb", "en-gb", "en-gb", "fr", "es", "en-gb", "fr", "en-gb", "es", "en-gb")


def _contact(patient: Patient, site_code: str) -> ContactDetails | None:
    n = zlib.crc32(patient.mrn.encode())
    if n % 13 == 0:
        return None  # nothing recorded yet: the worklist says so
    town, area = TOWNS.get(site_code, ("Leeds", "LS"))
    gp = GPS[n % len(GPS)]
    has_address = n % 11 != 0
    consented = n % 17 != 0
    return ContactDetails(
        patient=patient,
        mobile_phone=f"07700 9{n % 100000:05d}",
        home_phone=f"0113 496 {n % 10000:04d}" if n % 3 == 0 else "",
        email=f"{patient.given_name.lower()}.{patient.family_name.lower()}@example.org" if n % 4 == 0 else "",
        address_line1=f"{n % 90 + 1} {STREETS[n % len(STREETS)]}" if has_address else "",
        city=town if has_address else "",
        postal_code=f"{area}{n % 20 + 1} {n % 9 + 1}{'ABDEFGHJ'[n % 8]}{'LNPQRSTU'[(n // 8) % 8]}"
        if has_address
        else "",
        preferred_language=LANGUAGES[n % len(LANGUAGES)],
        interpreter_needed=LANGUAGES[n % len(LANGUAGES)] != "en-gb" and n % 2 == 0,
        preferred_channel=("phone" if consented else "")
        if n % 5
        else ("letter" if has_address and consented else ""),
        best_time=("weekday mornings", "after 5 pm", "")[n % 3],
        may_phone=consented,
        may_leave_voicemail=consented and n % 6 != 0,
        may_text=consented and n % 2 == 0,
        may_email=consented and n % 4 == 0,
        may_write=consented and has_address,
        may_write_to_gp=consented,
        consent_recorded_on=date(2023, 1 + n % 12, 1 + n % 28) if consented else None,
        gp_name=gp[0],
        gp_practice=gp[1],
        gp_address=f"{gp[2]}\n{town}",
        gp_phone=f"0113 496 {(n // 7) % 10000:04d}",
    )


def seed_contacts(sites: dict[str, Site]) -> int:
    """Contact details for the demo patients who have none; returns how many were written."""
    code_of = {site.id: code for code, site in sites.items()}
    patients = Patient.objects.filter(site__in=sites.values(), contact__isnull=True)
    rows = [c for p in patients if (c := _contact(p, code_of[p.site_id])) is not None]
    for row in rows:
        row.full_clean(exclude=["patient"])
    ContactDetails.objects.bulk_create(rows)
    return len(rows)


def seed_letter_templates(sites: dict[str, Site]) -> None:
    details = {
        "north": (
            "North Clinic — Breast Imaging Service",
            "Level 2, North Clinic\nHospital Road\nLeeds LS1 3EX",
            "0113 496 0123",
            "breast.imaging@north.example",
            "Chris Nakamura",
            "Breast Surveillance Coordinator",
        ),
        "south": (
            "South Clinic — Breast Unit",
            "South Clinic\nHarbour Way\nBristol BS1 6QA",
            "0117 496 0456",
            "breast.unit@south.example",
            "Dana Whitfield",
            "Breast Care Coordinator",
        ),
    }
    for code, site in sites.items():
        name, address, phone, email, signatory, title = details[code]
        LetterTemplate.objects.get_or_create(
            site=site,
            defaults={
                "letterhead_name": name,
                "letterhead_address": address,
                "phone": phone,
                "email": email,
                "opening_hours": "Monday to Friday, 9:00–17:00",
                "signatory_name": signatory,
                "signatory_title": title,
                "footer": "Please bring this letter to your appointment.",
            },
        )
