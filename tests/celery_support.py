"""Real Redis and Celery worker support for the reliability tests.

Each test that needs a broker starts its own `redis-server` on a free port (so no other
test's leftover messages reach its worker) and points this process's Celery app at it.
"""

import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import need
from tracker.celery import app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tails = "\n".join(f"--- {p}\n{Path(p).read_text()[-3000:]}" for p in logs if Path(p).exists())
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tails}")


class RedisServer:
    def __init__(self, tmp: Path):
        need(shutil.which("redis-server") is not None, "redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp / "redis.log"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 10, "redis-server", [self.log])

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def reset_producer_pool() -> None:
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    # kombu also keeps producer pools in a process-wide registry keyed by the broker URL;
    # every test's redis-server has its own port, so no test meets another's closed pool.


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    # This process (the "web") publishes to the test's own Redis.
    old = app.conf.broker_url
    app.conf.broker_url = server.url
    reset_producer_pool()
    yield server
    app.conf.broker_url = old
    reset_producer_pool()
    server.stop()


ROOT = Path(__file__).resolve().parents[1]


class Workers:
    """Starts and kills `celery worker` subprocesses (each in its own process group)."""

    def __init__(self, tmp: Path, redis_server: RedisServer):
        need(connection.vendor != "sqlite" or "memory" not in connection.settings_dict["NAME"],
             "the SQLite test database must be a file the worker can open")
        self.tmp, self.redis, self.procs, self.logs = tmp, redis_server, [], []
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()

    def start(self, *, pool: str = "solo", concurrency: int = 1, **env: str):
        log = self.tmp / f"worker{len(self.procs)}.log"
        environment = os.environ | {
            "DJANGO_SETTINGS_MODULE": "tracker.settings", "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis.url, "EMAIL_URL": f"filemail:///{self.mail_dir}",
            "CELERY_TASK_ALWAYS_EAGER": "false", "SITE_URL": "https://tracker.example",
            # Celery runs Django's system checks as a worker starts (several seconds on a
            # busy machine, each worker of each test); the suite runs them once
            # (tests/tracker/test_security.py, `check --deploy`).
            "CELERY_SKIP_CHECKS": "true",
        } | env
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool", pool,
             "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--hostname", f"w{len(self.procs)}@%h"],
            cwd=ROOT, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        self.procs.append(proc)
        self.logs.append(log)
        wait_for(lambda: "ready." in log.read_text() or proc.poll() is not None, 60,
                 "the worker to start", [log])
        assert proc.poll() is None, log.read_text()[-3000:]
        return proc

    def kill(self, proc, sig=signal.SIGKILL) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(20)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.kill(proc)

    def emails(self) -> list[str]:
        """Subjects of every email the workers wrote (the file backend's format)."""
        subjects = []
        for f in sorted(self.mail_dir.glob("*")):
            for chunk in f.read_text().split("-" * 79):
                if chunk.strip():
                    message = email.message_from_string(chunk.strip())
                    subjects.append(str(make_header(decode_header(message["Subject"]))))
        return subjects

    def queue_drained(self) -> bool:
        client = self.redis.client()
        return client.llen("celery") == 0 and client.hlen("unacked") == 0


@pytest.fixture
def workers(tmp_path, redis_server):
    w = Workers(tmp_path, redis_server)
    yield w
    w.stop_all()  # before the database is flushed
