"""Links in e-mails and the calendar feed start where `make run` serves (issue 17, item 6)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.settings import _site_url_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bind, url", [
    ("127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("127.0.0.1:8042", "http://127.0.0.1:8042"),
    ("0.0.0.0:9000", "http://localhost:9000"),
    ("[::1]:8001", "http://[::1]:8001"),
])
def test_site_url_follows_the_bind_address(bind, url):
    assert _site_url_for(bind) == url


def _settings_value(env: dict) -> str:
    code = ("import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tracker.settings'); "
            "from django.conf import settings; print(settings.SITE_URL)")
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "TRACKER_BIND")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, check=True).stdout.strip()


def test_settings_derive_site_url_from_tracker_bind_unless_set():
    assert _settings_value({"TRACKER_BIND": "127.0.0.1:8042"}) == "http://127.0.0.1:8042"
    assert _settings_value({}) == "http://127.0.0.1:8000"
    assert _settings_value({"TRACKER_BIND": "127.0.0.1:8042",
                            "SITE_URL": "https://tracker.clinic.example/"}) == "https://tracker.clinic.example"
