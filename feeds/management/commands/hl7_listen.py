"""`manage.py hl7_listen`: the MLLP listener (docs/hl7.md). `make run` starts it (Procfile)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from feeds.listener import Server
from feeds.services import receive
from feeds.services.intake import refuse_unframed


class Command(BaseCommand):
    help = "Listen for HL7 v2 messages over MLLP (ADT, ORM/OMI, ORU) and acknowledge each after commit."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HL7_LISTEN_HOST)
        parser.add_argument("--port", type=int, default=settings.HL7_LISTEN_PORT)
        parser.add_argument("--max-bytes", type=int, default=settings.HL7_MAX_MESSAGE_BYTES)

    def handle(self, *args, host: str, port: int, max_bytes: int, **options):
        server = Server((host, port), receive=receive, refuse_junk=refuse_unframed, max_bytes=max_bytes,
                        idle_timeout=settings.HL7_IDLE_TIMEOUT_SECONDS)

        def stop(signum, frame):
            # shutdown() waits for serve_forever to return: call it from another thread.
            threading.Thread(target=server.stop, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        bound_host, bound_port = server.server_address[:2]
        self.stdout.write(f"HL7 MLLP listener on {bound_host}:{bound_port} "
                          f"(messages up to {max_bytes:,} bytes)", ending="\n")
        self.stdout.flush()
        with server:
            server.serve_forever(poll_interval=0.5)
        self.stdout.write("HL7 listener stopped.")
