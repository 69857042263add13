"""`manage.py hl7_listen`: the MLLP listener (docs/hl7.md). `make run` starts it (Procfile).

With --processes N (default HL7_LISTEN_PROCESSES, 2) the parent binds the port and forks N
processes that accept connections on it, each serving its connections in threads: the
Python work of one message takes one core, so two processes use a two-core server. A new
connection goes to the process serving the fewest (`feeds.listener.Balance`), so an
interface engine's connections are spread over the cores.
Killing the parent kills its processes (Linux: the kernel's parent-death signal; elsewhere
they notice within half a second), so a sender sees the listener gone, as with one process.
"""

import ctypes
import os
import signal
import sys
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from feeds.listener import Balance, Server
from feeds.services import receive
from feeds.services.intake import refuse_unframed

PR_SET_PDEATHSIG = 1


class Command(BaseCommand):
    help = "Listen for HL7 v2 messages over MLLP (ADT, ORM/OMI, ORU) and acknowledge each after commit."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.HL7_LISTEN_HOST)
        parser.add_argument("--port", type=int, default=settings.HL7_LISTEN_PORT)
        parser.add_argument("--max-bytes", type=int, default=settings.HL7_MAX_MESSAGE_BYTES)
        parser.add_argument("--processes", type=int, default=settings.HL7_LISTEN_PROCESSES)

    def handle(self, *args, host: str, port: int, max_bytes: int, processes: int, **options):
        if processes < 1:
            raise CommandError("--processes must be at least 1.")
        server = Server((host, port), receive=receive, refuse_junk=refuse_unframed, max_bytes=max_bytes,
                        idle_timeout=settings.HL7_IDLE_TIMEOUT_SECONDS)
        bound_host, bound_port = server.server_address[:2]
        self.stdout.write(f"HL7 MLLP listener on {bound_host}:{bound_port} ({processes} process"
                          f"{'es' if processes > 1 else ''}, messages up to {max_bytes:,} bytes)")
        self.stdout.flush()
        if processes == 1:
            self._serve(server)
        else:
            self._serve_forked(server, processes)
        self.stdout.write("HL7 listener stopped.")

    def _serve(self, server: Server) -> None:
        def stop(signum, frame):
            # shutdown() waits for serve_forever to return: call it from another thread.
            threading.Thread(target=server.stop, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with server:
            server.serve_forever(poll_interval=0.5)

    def _serve_forked(self, server: Server, processes: int) -> None:
        connections.close_all()  # never share a database connection across a fork
        server.socket.setblocking(False)  # processes race for each accept; the losers go on
        balance = Balance(processes)
        parent = os.getpid()
        children = []
        for slot in range(processes):
            pid = os.fork()
            if pid == 0:
                _die_with(parent)
                server.parent_pid = parent
                balance.slot = slot
                server.balance = balance
                try:
                    self._serve(server)
                finally:
                    os._exit(0)
            children.append(pid)
        server.socket.close()

        def forward(signum, frame):
            for child in children:
                try:
                    os.kill(child, signal.SIGTERM)
                except ProcessLookupError:
                    pass

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        failed = False
        for _ in children:
            _pid, status = os.wait()
            if os.waitstatus_to_exitcode(status) != 0 and not failed:
                failed = True
                forward(signal.SIGTERM, None)  # one process died: stop the others, exit non-zero
        if failed:
            sys.exit(1)


def _die_with(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: Server.service_actions notices the parent's death
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)
