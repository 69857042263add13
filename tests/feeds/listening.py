"""A real `manage.py hl7_listen` in a subprocess on a free port, against the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import hl7
from django.db import connection
from hl7.client import MLLPClient

from tests.celery_support import database_url, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]


class Listener:
    def __init__(self, tmp: Path, *, port: int | None = None, max_bytes: int = 256 * 1024):
        self.port = port or free_port()
        self.max_bytes = max_bytes
        self.log = tmp / f"hl7-listener-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self.app_name = f"hl7-listener-test-{self.port}"  # its PostgreSQL sessions' name (libpq)

    def start(self) -> "Listener":
        env = {**os.environ, "DATABASE_URL": database_url(), "TRACKER_DEV_APPS": "true",
               "PYTHONUNBUFFERED": "1", "PGAPPNAME": self.app_name}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        # --skip-checks: the system checks import every view to check the URLs, which made
        # up 4 of the 5 s a listener took to start on the shared 2-core machine; the suite
        # runs them once (tests/tracker/test_security.py, `check --deploy`).
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "hl7_listen", "--skip-checks", "--port", str(self.port),
                 "--max-bytes", str(self.max_bytes)], cwd=ROOT, env=env, stdout=out, stderr=out)
        wait_for(self.accepting, 90, "the HL7 listener", [self.log])
        return self

    def accepting(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"listener exited:\n{self.log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up, whatever it was doing is cut off (its forked processes die
        with it: PR_SET_PDEATHSIG)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        _wait_for_sessions_to_end(self.app_name)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        _wait_for_sessions_to_end(self.app_name)

    def client(self) -> MLLPClient:
        return MLLPClient("127.0.0.1", self.port)


def _wait_for_sessions_to_end(app_name: str) -> None:
    """PostgreSQL ends a killed process's session a moment after it died: wait for that, so
    that the test database is not still "accessed by other users" when it is dropped."""
    if connection.vendor != "postgresql":
        return

    def sessions() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [app_name])
            return cursor.fetchone()[0]

    wait_for(lambda: sessions() == 0, 15, "the listener's database sessions to end")


def ack_of(reply: bytes) -> hl7.Message:
    """The ACK inside an MLLP frame."""
    return hl7.parse(reply.strip(b"\x0b\x1c\r\n").decode())


def ack_code(reply: bytes) -> str:
    return str(ack_of(reply).segment("MSA")[1])


def ack_text(reply: bytes) -> str:
    message = ack_of(reply)
    return message.unescape(str(message.segment("MSA")[3]))


def read_frame(sock: socket.socket, timeout: float = 30) -> bytes:
    """One whole MLLP frame from a raw socket."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\x1c\r") and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
