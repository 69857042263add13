"""Item 11: the timeline and list pages under load, served by gunicorn as in production.

gunicorn runs `tracker.wsgi` in its own process with one sync worker per core, as the
Procfile starts it; this process plays `clients` people at once (16 by default), each
with its own keep-alive-less HTTP connection on loopback, logged in as the bench's
radiologist, each asking for the next page as soon as the last one arrived (a closed
loop: the load is bounded by the clients, not by a request rate). Half the requests are
the timelines of the bench patients, half the patient list's pages. After a warm-up, every
response of the measured window counts: requests per second per core, p50 and p99 of the
response time, and errors (anything but HTTP 200, or a refused connection) must be 0.
"""

import http.client
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.test import Client

from patients.models import Patient

from .feed import ROOT, database_url, free_port, stop_process
from .report import Check, Row

CLIENTS = 16


class Server:
    """gunicorn serving the bench database on a free loopback port."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url(), "TRACKER_DEV_APPS": "true",
               "TWO_FACTOR_REQUIRED": "false",
               # Connections kept between requests, as docs/deployment.md has it: without, each
               # request waits for a new PostgreSQL backend and plans on its cold caches.
               "CONN_MAX_AGE": "60",
               # Pages name static files as they are: nothing was collected for the bench.
               "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tracker.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--backlog", "64", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/login/")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        stop_process(self.proc)


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: {"timeline": [], "list": []})
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            if error:
                self.errors.append(error)
            else:
                self.times[kind].append(seconds)


def _client(port: int, cookie: str, paths: list[tuple[str, str]], start: float, stop: float,
            results: Results, seed: int) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie}
    while (now := time.perf_counter()) < stop:
        kind, path = paths[rng.randrange(len(paths))]
        error = None
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                error = f"HTTP {response.status} for a {kind} page"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__} for a {kind} page"
            connection.close()
        if now >= start:  # requests sent during the warm-up are not counted
            results.add(kind, time.perf_counter() - now, error)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load_rows(user, sites, *, clients: int = CLIENTS, seconds: float = 20.0, warm_up: float = 3.0,
              workers: int | None = None) -> list[Row]:
    """Serve, log in, load for `warm_up` + `seconds`, and return one row per page."""
    workers = workers or os.cpu_count() or 1
    browser = Client()
    browser.force_login(user)  # a session row in the bench database, as a login makes
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    uuids = list(Patient.objects.filter(site__in=sites).order_by("id").values_list("uuid", flat=True)[:500])
    pages = max(1, min(40, Patient.objects.filter(site__in=sites).count() // 25))
    paths = ([("timeline", f"/patients/{u}/") for u in uuids]
             + [("list", f"/patients/?page={n}") for n in range(1, pages + 1)] * max(1, len(uuids) // pages))
    results = Results()
    server = Server(workers)
    try:
        begin = time.perf_counter()
        start, stop = begin + warm_up, begin + warm_up + seconds
        threads = [threading.Thread(target=_client,
                                    args=(server.port, cookie, paths, start, stop, results, n))
                   for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    rows = []
    for kind, label in (("timeline", "Timeline page"), ("list", "Patient list page")):
        times = results.times[kind]
        errors = [e for e in results.errors if f"a {kind} page" in e]
        rate = len(times) / seconds
        p50 = _percentile(times, 0.50) if times else None
        p99 = _percentile(times, 0.99) if times else None
        note = (f"{rate / workers:,.1f} requests/s per core ({workers} gunicorn workers); "
                f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; {len(errors)} errors"
                if times else f"no response in {seconds:.0f} s; {len(errors)} errors: {errors[:1]}")
        rows.append(Row(item="11", name=f"{label} under load ({clients} clients, gunicorn)",
                        median=p50, p95=_percentile(times, 0.95) if times else None, rate=rate,
                        unit="requests/s", runs=len(times) + len(errors),
                        checks=[Check("0 errors", bool(times) and not errors)], note=note))
    return rows
