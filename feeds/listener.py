"""The MLLP listener: TCP connections from the hospital's interface engine, one thread each.

MLLP frames every message as <VT> message <FS><CR>. On each connection the sender sends a
message and waits for its ACK before the next, so a connection is served in order; several
connections are served at once. What a frame becomes is `feeds.services.receive`'s
business; here are the framing, the size limit and the connection's life:

- a frame larger than the limit is read to its end and discarded (its beginning kept for
  the log) and answered AR, so the connection stays usable;
- bytes outside a frame (a sender not speaking MLLP) are answered AR once per junk run;
- when `receive` cannot store a message (database down) the connection is closed without
  an ACK: the sender resends it, on this or a new connection;
- on SIGTERM the listener stops accepting, lets each connection finish the message it is
  processing, and exits;
- with several processes sharing the port (`hl7_listen --processes`), a new connection is
  taken by the process serving the fewest (`Balance`).
"""

import logging
import multiprocessing
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)

START, END, CR = b"\x0b", b"\x1c", b"\x0d"
KEEP_OF_OVERSIZED = 64 * 1024
POLL_SECONDS = 0.5
# A process serving more connections than another leaves a new one to it, for at most this
# long (that process may be slow to wake on a busy machine), checking every BALANCE_PAUSE.
BALANCE_GRACE_SECONDS = 0.2
BALANCE_PAUSE_SECONDS = 0.002


class Frame:
    """One message as read from the stream: its bytes, or the beginning of an oversized one
    (`size` then the real size), or junk found outside any frame."""

    def __init__(self, data: bytes, *, size: int | None = None, junk: bool = False):
        self.data, self.size, self.junk = data, size, junk


class FrameReader:
    """Splits a byte stream into MLLP frames, holding at most `limit` bytes of one frame."""

    def __init__(self, limit: int):
        self.limit = limit
        self.buffer = bytearray()
        self.in_frame = False
        self.frame = bytearray()
        self.dropped = 0  # bytes of an oversized frame not kept

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer += data
        frames: list[Frame] = []
        while self.buffer:
            if not self.in_frame:
                start = self.buffer.find(START)
                before = self.buffer if start == -1 else self.buffer[:start]
                if bytes(before).strip():
                    frames.append(Frame(b"", junk=True))  # answered at once, one AR per read
                if start == -1:
                    self.buffer.clear()
                    break
                del self.buffer[:start + 1]
                self.in_frame, self.frame, self.dropped = True, bytearray(), 0
            end = self.buffer.find(END + CR)
            chunk = self.buffer if end == -1 else self.buffer[:end]
            if end == -1 and self.buffer.endswith(END):
                chunk = self.buffer[:-1]  # the <FS> may be followed by its <CR> in the next read
            self._take(bytes(chunk))
            if end == -1:
                del self.buffer[:len(chunk)]
                break
            del self.buffer[:end + 2]
            self.in_frame = False
            size = len(self.frame) + self.dropped
            frames.append(Frame(bytes(self.frame), size=size if self.dropped else None))
        return frames

    def _take(self, chunk: bytes) -> None:
        if self.dropped:
            self.dropped += len(chunk)
        elif len(self.frame) + len(chunk) <= self.limit:
            self.frame += chunk
        else:
            # Too large: keep only its beginning (its MSH names it in the log and the AR).
            whole = bytes(self.frame) + chunk
            keep = min(KEEP_OF_OVERSIZED, self.limit)
            self.frame, self.dropped = bytearray(whole[:keep]), len(whole) - keep


def wrap(message: bytes) -> bytes:
    return START + message + END + CR


class Handler(socketserver.BaseRequestHandler):
    server: "Server"

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(POLL_SECONDS)
        reader = FrameReader(self.server.max_bytes)
        idle = 0.0
        try:
            while not self.server.stopping.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    idle += POLL_SECONDS
                    if idle >= self.server.idle_timeout:
                        return
                    continue
                if not data:
                    return
                idle = 0.0
                for frame in reader.feed(data):
                    reply = self.server.answer(frame)
                    if reply is None:
                        return  # not stored: close unacknowledged, the sender resends
                    sock.sendall(wrap(reply))
        except OSError:
            return  # the sender went away; whatever it did not get an ACK for, it resends
        finally:
            connections.close_all()  # this thread's database connection


class Balance:
    """How many connections each listener process serves, in memory the processes share.

    Processes sharing a listening socket race for each connection, and the first to wake
    usually takes a whole burst: an interface engine opening four connections at once found
    all four in one process half the time (measured: [4], [1, 3] or [2, 2] for 2 processes),
    so that process's one core did the work of four while the other idled. Each process
    writes only its own count; a process takes a new connection only when none serves fewer.
    """

    def __init__(self, processes: int):
        self.counts = multiprocessing.RawArray("i", processes)  # shared by the forked processes
        self.slot = 0
        self.lock = threading.Lock()

    def fewest(self) -> bool:
        return self.counts[self.slot] <= min(self.counts)

    def add(self, n: int) -> None:
        with self.lock:
            self.counts[self.slot] += n


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], *, receive: Callable[..., bytes | None],
                 refuse_junk: Callable[[], bytes], max_bytes: int, idle_timeout: float = 600):
        self.receive = receive
        self.refuse_junk = refuse_junk
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.stopping = threading.Event()
        self.parent_pid: int | None = None  # set in a forked process of `hl7_listen`
        self.balance: Balance | None = None  # set in a forked process of `hl7_listen`
        self.declined_since = self.declined_last = 0.0
        super().__init__(address, Handler)

    def get_request(self):
        """Accept a connection, unless another process serves fewer: it takes this one (an
        OSError here is "nothing accepted" to socketserver)."""
        if self.balance is not None and not self.balance.fewest() and self._leave_it():
            time.sleep(BALANCE_PAUSE_SECONDS)
            raise BlockingIOError("left to a process serving fewer connections")
        request = super().get_request()  # BlockingIOError when another process took it
        self.declined_last = 0.0  # the next connection is a new one
        if self.balance is not None:
            self.balance.add(1)
        return request

    def _leave_it(self) -> bool:
        """Whether to leave the waiting connection to another process: yes, unless it has
        waited BALANCE_GRACE_SECONDS. The serve loop asks every BALANCE_PAUSE_SECONDS while a
        connection waits; a longer gap means the last one was taken and this one is new."""
        now = time.monotonic()
        if now - self.declined_last > BALANCE_GRACE_SECONDS:
            self.declined_since = now
        self.declined_last = now
        return now - self.declined_since < BALANCE_GRACE_SECONDS

    def shutdown_request(self, request) -> None:
        """Called once for every connection accepted, however it ended."""
        if self.balance is not None:
            self.balance.add(-1)
        super().shutdown_request(request)

    def service_actions(self) -> None:
        """Between polls: a forked process whose parent died stops (outside Linux)."""
        if self.parent_pid is not None and os.getppid() != self.parent_pid and not self.stopping.is_set():
            threading.Thread(target=self.stop, daemon=True).start()

    def answer(self, frame: Frame) -> bytes | None:
        if frame.junk:
            return self.refuse_junk()
        if frame.size is not None:
            return self.receive(frame.data, size=frame.size, limit=self.max_bytes)
        return self.receive(frame.data)

    def stop(self) -> None:
        """Stop accepting; connections finish their current message and close."""
        self.stopping.set()
        self.shutdown()
