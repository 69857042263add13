"""The real listener (`manage.py hl7_listen` in a subprocess) over real TCP, with python-hl7's
MLLP client and command-line `mllp_send`: the happy path, bad input, duplicates, and a
listener killed mid-stream while the sender resends whatever was not acknowledged."""

import os
import shutil
import socket
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from feeds.models import Message
from imaging.models import ImagingStudy, StudyProposal
from patients.models import Patient
from tests.feeds import builders as b
from tests.feeds.listening import Listener, ack_code, ack_text, read_frame

# serialized_rollback, as the other tests of real processes: a plain flush afterwards re-runs
# post_migrate, whose roles then collide with the rows the browser and worker tests restore.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FRAME = (b"\x0b", b"\x1c\r")


@pytest.fixture
def listener(tmp_path, feed_source):
    server = Listener(tmp_path).start()
    yield server
    server.stop()


def test_an_adt_and_an_oru_over_tcp_file_the_patient_and_a_draft_with_proposals(listener, site):
    with listener.client() as client:
        assert ack_code(client.send_message(b.adt("TCP-1", family="Marsh", given="Helen"))) == "AA"
        reply = client.send_message(b.oru("TCP-1", accession="ACC-T1"))
    assert ack_code(reply) == "AA"
    assert "Draft study filed" in ack_text(reply)
    patient = Patient.objects.get(mrn="TCP-1")
    assert (patient.site, patient.family_name) == (site, "Marsh")
    study = ImagingStudy.objects.get(patient=patient)
    assert (study.accession, study.status) == ("ACC-T1", "draft")
    assert StudyProposal.objects.get(study=study).proposal["calcifications"]


def test_the_command_line_client_mllp_send(listener, tmp_path):
    """What docs/hl7.md tells an interface analyst to run."""
    mllp_send = shutil.which("mllp_send") or str(Path(__import__("sys").executable).with_name("mllp_send"))
    message = tmp_path / "adt.hl7"
    message.write_bytes(b.adt("TCP-2").encode())
    out = subprocess.run([mllp_send, "--loose", "--file", str(message), "--port", str(listener.port),
                          "127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert "MSA|AA|" in out.stdout, out.stdout + out.stderr
    assert Patient.objects.filter(mrn="TCP-2").exists()


def test_bad_input_gets_a_clear_refusal_and_the_connection_stays_usable(listener):
    oversized = b.oru("TCP-3", cid="BIG-9", report="x" * (listener.max_bytes + 10_000)).encode()
    cases = [
        (b"PID|1||NO-MSH", "AR", "MSH"),
        (b.msh("ADT^A04", "E1").encode() + b"\rPID|1||X\r&&garbage", "AR", "Segment 3"),
        (b.adt("TCP-3", family="Lef\xe8vre").encode("latin-1"), "AR", "MSH-18"),
        (b.msh("ZZZ^Z99", "E2").encode(), "AR", "ZZZ"),
        (oversized, "AR", "bytes"),
        (b.oru("TCP-3", observed="notadate").encode(), "AE", "OBR-7"),
        (b.oru("TCP-3", accession="ACC-T3").encode(), "AA", ""),  # before its ADT: held, accepted
        (b.adt("TCP-3").encode(), "AA", "1 held message"),
    ]
    with socket.create_connection(("127.0.0.1", listener.port)) as sock:
        sock.sendall(b"junk outside any frame\r\n")
        junk = read_frame(sock)
        assert ack_code(junk) == "AR" and "MLLP" in ack_text(junk)
        for raw, expected, words in cases:
            sock.sendall(FRAME[0] + raw + FRAME[1])
            reply = read_frame(sock)
            assert ack_code(reply) == expected, (raw[:40], ack_text(reply))
            assert words in ack_text(reply), (words, ack_text(reply))
    big = Message.objects.get(control_id="BIG-9")
    assert (big.status, big.size) == (Message.Status.REJECTED, len(oversized))
    assert Message.objects.get(message_type="ORU^R01", status="error").patient is None
    # The ORU that came before its ADT was held, then filed when the ADT registered her.
    assert ImagingStudy.objects.get().accession == "ACC-T3"
    assert Message.objects.count() == len(cases)  # the junk was not a message: refused, not kept


def test_the_same_message_on_two_connections_at_once_is_filed_once(listener):
    with listener.client() as client:
        client.send_message(b.adt("TCP-4"))
    text = b.oru("TCP-4", cid="RACE-1", accession="ACC-RACE")
    replies: list[bytes] = []

    def send() -> None:
        with listener.client() as client:
            replies.append(client.send_message(text))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [ack_code(r) for r in replies] == ["AA"] * 4
    assert ImagingStudy.objects.filter(accession="ACC-RACE").count() == 1
    row = Message.objects.get(control_id="RACE-1")
    assert row.deliveries == 4


def established_per_process(listener: Listener) -> list[int]:
    """How many of the listener's TCP connections each of its processes holds (Linux /proc)."""
    pid = listener.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == listener.port and fields[3] == "01":
                inodes.add(fields[9])
    counts = []
    for child in children:
        links = [os.readlink(fd) for fd in Path(f"/proc/{child}/fd").iterdir()]
        counts.append(sum(link[8:-1] in inodes for link in links if link.startswith("socket:[")))
    return sorted(counts)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux /proc")
def test_connections_opened_at_once_are_spread_over_the_processes(listener):
    """Two processes (the default): an interface engine's four connections are served two and
    two, not four by one core (as the first process to wake took them before)."""
    clients = [socket.create_connection(("127.0.0.1", listener.port)) for _ in range(4)]
    try:
        deadline = time.monotonic() + 10
        while (counts := established_per_process(listener)) != [2, 2] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert counts == [2, 2]
    finally:
        for client in clients:
            client.close()


class RetryingSender:
    """An interface engine: sends in order, resends anything not acknowledged (reconnecting
    with a short back-off), and moves on only after an ACK."""

    def __init__(self, port: int, messages: list[str]):
        self.port, self.messages = port, messages
        self.acks: dict[int, str] = {}
        self.resends = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            sock = None
            i = 0
            deadline = time.monotonic() + 180
            while i < len(self.messages) and time.monotonic() < deadline:
                try:
                    if sock is None:
                        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    sock.sendall(FRAME[0] + self.messages[i].encode() + FRAME[1])
                    reply = read_frame(sock, timeout=20)
                    if not reply.endswith(FRAME[1]):
                        raise ConnectionError("no ACK")
                    self.acks[i] = ack_code(reply)
                    i += 1
                except OSError:
                    self.resends += 1
                    if sock is not None:
                        sock.close()
                    sock, _ = None, time.sleep(0.2)
            if sock is not None:
                sock.close()
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def test_a_listener_killed_mid_stream_loses_nothing_and_files_nothing_twice(tmp_path, feed_source):
    patients = 25
    messages = []
    for n in range(patients):
        messages += [b.adt(f"KILL-{n}", dob=date(1970, 1, 1 + n % 28)),
                     b.oru(f"KILL-{n}", accession=f"ACC-K{n}", dob=date(1970, 1, 1 + n % 28))]
    first = Listener(tmp_path).start()
    sender = RetryingSender(first.port, messages)
    thread = threading.Thread(target=sender.run)
    thread.start()
    deadline = time.monotonic() + 60
    while len(sender.acks) < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.kill()  # mid-stream: some message is on the wire or in its transaction
    killed_at = len(sender.acks)
    time.sleep(0.5)
    second = Listener(tmp_path, port=first.port).start()
    thread.join(200)
    second.stop()
    assert sender.error is None
    assert killed_at < len(messages), "the kill came after the stream ended"
    assert sender.resends >= 1
    assert len(sender.acks) == len(messages)
    assert set(sender.acks.values()) == {"AA"}
    assert Patient.objects.count() == patients
    assert ImagingStudy.objects.count() == patients
    # Each message accepted exactly once; the one cut off was resent and counted there.
    accepted = Message.objects.filter(status__in=Message.ACCEPTED)
    assert accepted.count() == len(messages)
    assert Message.objects.exclude(status__in=Message.ACCEPTED).count() == 0
    # No partial writes: every filed report has its study and proposal, every study its report.
    for row in accepted.filter(message_type="ORU^R01"):
        assert row.status == Message.Status.PROCESSED
        assert row.study is not None and StudyProposal.objects.filter(study=row.study).exists()
