"""Item 9: ORU^R01 messages per second through the real MLLP listener into the database.

The listener runs as `manage.py hl7_listen` in its own process, as `make run` starts it;
this process is the hospital's interface engine: `connections` python-hl7 MLLP clients, each
sending its share of the messages one after another (MLLP: the next message only after
the ACK, which the listener sends after its commit). Every message is a new report for a
registered patient, so each one files a draft study with its findings proposed from the
report text, the message row and the audit events. Throughput is messages acknowledged
AA per second of wall time, after a warm-up; every ACK is checked.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection

from patients.models import Patient, Site

from .report import MIN_HL7_ORU_PER_S, Row, rate_check

SITE_CODE = "bench-feed"
FACILITY = "BENCH_RIS"
ROOT = Path(settings.BASE_DIR)
REPORTS = [
    "Bilateral mammogram. Heterogeneously dense (ACR c). Left breast, upper outer quadrant: grouped "
    "fine pleomorphic calcifications over {mm} mm, stable. No mass. BI-RADS 2: benign.",
    "Right breast, 10 o'clock: amorphous calcifications in a regional distribution spanning {mm} mm, "
    "new since the prior study. Scattered fibroglandular density (b). BI-RADS 4A.",
    "Breast MRI. Minimal background enhancement. No suspicious enhancement in either breast; the "
    "{mm} mm post-surgical seroma is unchanged. BI-RADS 2.",
]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oru(n: int, run: str, mrn: str, dob: date) -> str:
    mm = 5 + n % 30
    modality = ("77049", "MRI BREAST BILAT") if n % 3 == 2 else ("77066", "MAMMO DIAG BILAT")
    report = REPORTS[n % 3].format(mm=mm)
    day = (date(2026, 1, 1) - timedelta(days=n % 900)).strftime("%Y%m%d")
    accession = f"B{run}{n:07d}"
    return "\r".join([
        f"MSH|^~\\&|RIS|{FACILITY}|TRACKER|TRACKER|{day}120000||ORU^R01^ORU_R01|{accession}|P|2.5.1",
        f"PID|1||{mrn}^^^BENCH^MR||Bench^Patient||{dob:%Y%m%d}|F",
        f"OBR|1|P{accession}|{accession}|{modality[0]}^{modality[1]}^CPT4|||{day}1000",
        f"OBX|1|TX|18782-3^Radiology report^LN||{report}||||||F",
    ])


class Listener:
    def __init__(self) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url(), "TRACKER_DEV_APPS": "true"}
        self.proc = subprocess.Popen([sys.executable, "manage.py", "hl7_listen", "--port", str(self.port)],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the listener exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the listener did not start")

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, as a service manager stops it; killed if it has not exited within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _send_all(port: int, messages: list[str], connections: int) -> tuple[float, list[bytes]]:
    from hl7.client import MLLPClient

    replies: list[bytes] = []
    lock = threading.Lock()
    shares = [messages[i::connections] for i in range(connections)]

    def run(share: list[str]) -> None:
        with MLLPClient("127.0.0.1", port) as client:
            got = [client.send_message(text) for text in share]
        with lock:
            replies.extend(got)

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, replies


def _prepare(patients: int) -> list[tuple[str, date]]:
    from feeds.models import FeedSource

    site, _ = Site.objects.get_or_create(code=SITE_CODE, defaults={"name": "Bench Feed"})
    FeedSource.objects.get_or_create(sending_facility=FACILITY, assigning_authority="",
                                     defaults={"site": site})
    existing = set(Patient.objects.filter(site=site).values_list("mrn", flat=True))
    Patient.objects.bulk_create([
        Patient(site=site, mrn=f"BF{n:05d}", given_name="Patient", family_name="Bench",
                date_of_birth=date(1960, 1, 1) + timedelta(days=n % 5000))
        for n in range(patients) if f"BF{n:05d}" not in existing])
    return list(Patient.objects.filter(site=site).order_by("mrn").values_list("mrn", "date_of_birth"))


def clean_up() -> None:
    """The bench feed's messages and studies, so every run files new drafts."""
    from feeds.models import Message
    from imaging.models import ImagingStudy

    Message.objects.filter(sending_facility=FACILITY).delete()
    ImagingStudy.objects.filter(patient__site__code=SITE_CODE).delete()


def hl7_row(messages: int = 2000, connections: int = 4, patients: int = 200, warm_up: int = 100) -> Row:
    name = f"HL7 ORU^R01 through the MLLP listener ({messages} messages, {connections} connections)"
    who = _prepare(patients)
    clean_up()
    run = f"{int(time.time()) % 100000:05d}"
    texts = [oru(n, run, *who[n % len(who)]) for n in range(warm_up + messages)]
    listener = Listener()
    try:
        _send_all(listener.port, texts[:warm_up], connections)
        elapsed, replies = _send_all(listener.port, texts[warm_up:], connections)
    finally:
        listener.stop()
    refused = [r for r in replies if b"MSA|AA|" not in r]
    if len(replies) != messages or refused:
        raise RuntimeError(f"{len(refused)} of {len(replies)} messages were not accepted: {refused[:1]}")
    rate = messages / elapsed
    clean_up()
    return Row(item="9", name=name, median=elapsed / messages, rate=rate, unit="messages/s", runs=1,
               checks=rate_check(rate, MIN_HL7_ORU_PER_S, "messages/s"))
