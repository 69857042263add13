"""`make run`: migrate, load demo data, print demo logins, start web + worker + beat + the
HL7 listener (the Procfile's processes).

Run with the project's virtualenv Python (the Makefile does). If Redis is not reachable
it starts a local redis-server when one is installed; if none is, it says how to install
one and runs Celery tasks in-process so the app still works.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def redis_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis(url: str) -> bool:
    """True when a Redis answers at `url` (starting a local one if possible)."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    if redis_reachable(host, port):
        return True
    server = shutil.which("redis-server")
    if server and host in ("127.0.0.1", "localhost"):
        print(f"Redis is not running on {host}:{port}; starting a local redis-server.")
        subprocess.run([server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
                        "--save", "", "--appendonly", "no"], check=True)
        for _ in range(50):
            if redis_reachable(host, port):
                return True
            time.sleep(0.1)
    print(
        f"\n!! Redis is not reachable at {url} and no redis-server is installed.\n"
        "   Install one with `sudo apt-get install redis-server` (Debian/Ubuntu) or\n"
        "   `brew install redis` (macOS) for the real Celery worker and beat.\n"
        "   Until then the tracker runs its tasks in-process.\n"
    )
    return False


def main() -> None:
    os.chdir(ROOT)
    (ROOT / "var").mkdir(exist_ok=True)
    env = os.environ
    env.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    # The demo data (and its seed_demo command) live in a development app.
    env.setdefault("TRACKER_DEV_APPS", "true")
    # The settings refuse to start without a secret key: the demo gets its own, made once.
    if not env.get("SECRET_KEY") and not env.get("SECRET_KEY_FILE"):
        key_file = ROOT / "var" / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        env["SECRET_KEY_FILE"] = str(key_file)
    # A first look needs no authenticator app: the demo logins skip two-factor
    # authentication unless asked for (README: TWO_FACTOR_REQUIRED=true make run).
    env.setdefault("TWO_FACTOR_REQUIRED", "false")
    # The Procfile's gunicorn and celery are the virtualenv's.
    env["PATH"] = f"{Path(PY).parent}{os.pathsep}{env.get('PATH', '')}"
    # Before anything runs: settings derive SITE_URL (links in e-mails) from it.
    bind = env.setdefault("TRACKER_BIND", "127.0.0.1:8000")
    if bind.rpartition(":")[0] in ("0.0.0.0", "[::]", "") and not env.get("SITE_URL"):
        print(f"!! Serving on all interfaces ({bind}): set SITE_URL to the address people open, "
              "or links in e-mails will say localhost.")
    eager = not ensure_redis(env["REDIS_URL"])
    if eager:
        env["CELERY_TASK_ALWAYS_EAGER"] = "true"
    if shutil.which("msgfmt"):
        manage("compilemessages", "--ignore=.venv", "--ignore=staticfiles", "--verbosity", "0")
    else:
        print("!! gettext's msgfmt is missing (`sudo apt-get install gettext`): letters cannot be "
              "printed in French or Spanish until the catalogues are compiled.")
    manage("migrate", "--no-input")
    manage("collectstatic", "--no-input", "--verbosity", "0")
    manage("seed_demo")
    # Plans, worklist and today's digest for the demo: the worker does it as soon as it
    # starts (in-process when there is no Redis), as beat does every morning.
    manage("surveillance_daily", "--enqueue")
    manage("shell", "-c", "from django.conf import settings; "
           "print('Links in e-mails and the calendar feed start with', settings.SITE_URL)")
    hl7 = f"{env.get('HL7_LISTEN_HOST', '127.0.0.1')}:{env.get('HL7_LISTEN_PORT', '2575')}"
    print(f"\nStarting the tracker on http://{bind}/ and its HL7 v2 (MLLP) listener on {hl7}"
          "  (Ctrl-C stops every process; docs/hl7.md says how to send a test message)\n")
    procfile = "Procfile.eager" if eager else "Procfile"
    honcho = str(Path(PY).with_name("honcho"))
    os.execve(honcho, [honcho, "-f", procfile, "start"], env)


if __name__ == "__main__":
    main()
