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
  processing, and exits.
"""

import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable

from django.db import connections

log = logging.getLogger(__name__)

START, END, CR = b"\x0b", b"\x1c", b"\x0d"
KEEP_OF_OVERSIZED = 64 * 1024
POLL_SECONDS = 0.5


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
        super().__init__(address, Handler)

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
