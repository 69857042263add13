"""What a browser transfers for a patient's timeline, served as in production.

The static files are collected with the production storage (hashed names, gzip and Brotli
copies) and the project's own WSGI application serves them through WhiteNoise, not the
test server's static handler. Chromium's own network log (DevTools protocol) counts the
bytes on the wire: the first visit within 600 KB, the next (cached files) within 100 KB.
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.case_report import case_report_patient
from tests.patients.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FIRST_VISIT_BUDGET = 600_000
REPEAT_VISIT_BUDGET = 100_000


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # the test reads Chromium's log, not the server's
        pass


@pytest.fixture
def production_server(settings, tmp_path) -> Iterator[str]:
    settings.STATIC_ROOT = tmp_path / "static"
    # The project's own files only: the clinic pages use nothing of the admin's or the API
    # docs' (compressing those too would only slow the test down).
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--no-input", verbosity=0)
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())  # the middleware, WhiteNoise included, reads the settings now
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    # The rows this test wrote while Playwright ran used a connection of Playwright's
    # context: close it, or PostgreSQL cannot drop the test database at the end.
    connections.close_all()


@dataclass
class Transfer:
    """Bytes received per URL (headers and encoded body), from Chromium's network log."""

    urls: dict[str, str] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.received.values())

    def largest(self) -> list[tuple[str, int]]:
        return sorted(((self.urls.get(r, r), n) for r, n in self.received.items()), key=lambda x: -x[1])[:5]


def _measure(page, url: str, *, cold: bool = False) -> Transfer:
    transfer = Transfer()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    if cold:  # as on a first visit: nothing cached (the login page cached the stylesheet)
        cdp.send("Network.clearBrowserCache")
    cdp.on("Network.requestWillBeSent",
           lambda e: transfer.urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished",
           lambda e: transfer.received.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    page.goto(url, wait_until="networkidle")
    expect(page.locator(".plotly-chart .main-svg").first).to_be_visible()
    cdp.detach()
    return transfer


def test_timeline_first_and_repeat_visit_within_budget(page, production_server, site, radiologist):
    patient = case_report_patient(site)  # ten years of exams: the chart and tables at full length
    page.goto(production_server + reverse("login"))
    page.fill("#id_username", radiologist.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(production_server + reverse("dashboard"))

    timeline = production_server + patient.get_absolute_url()
    first = _measure(page, timeline, cold=True)
    print(f"timeline, first visit: {first.total() / 1000:.0f} KB; largest: {first.largest()}")
    assert first.total() <= FIRST_VISIT_BUDGET, first.largest()
    plotly = [u for u in first.urls.values() if "plotly-basic" in u]
    assert len(plotly) == 1 and re.search(r"/vendor/plotly-basic\.min\.[0-9a-f]{12}\.js$", plotly[0])
    cache_control = page.request.get(plotly[0]).headers["cache-control"]
    assert "immutable" in cache_control and "max-age=315360000" in cache_control

    repeat = _measure(page, timeline)
    print(f"timeline, repeat visit: {repeat.total() / 1000:.0f} KB; largest: {repeat.largest()}")
    assert repeat.total() <= REPEAT_VISIT_BUDGET, repeat.largest()
    assert not page.console_errors
