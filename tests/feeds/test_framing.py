"""MLLP framing (pure): frames split anywhere across reads, oversized frames, junk; and the
balance of connections between the listener's processes."""

import socket
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.listener import BALANCE_GRACE_SECONDS, KEEP_OF_OVERSIZED, Balance, FrameReader, Server, wrap


def feed_in_pieces(reader: FrameReader, data: bytes, cuts: list[int]) -> list:
    frames, start = [], 0
    for cut in sorted(set(cuts)) + [len(data)]:
        frames += reader.feed(data[start:cut])
        start = cut
    return frames


@given(st.lists(st.binary(min_size=1, max_size=300).filter(lambda b: b"\x0b" not in b and b"\x1c" not in b),
                min_size=1, max_size=5),
       st.lists(st.integers(min_value=0, max_value=2000), max_size=20))
def test_frames_come_out_whole_however_the_stream_is_cut(messages, cuts):
    data = b"".join(wrap(m) for m in messages)
    frames = feed_in_pieces(FrameReader(limit=10_000), data, [c for c in cuts if c < len(data)])
    assert [f.data for f in frames] == messages
    assert all(f.size is None and not f.junk for f in frames)


def test_an_oversized_frame_keeps_its_beginning_and_its_real_size():
    big = b"MSH|^~\\&|" + b"x" * 200_000
    reader = FrameReader(limit=100_000)
    frames = feed_in_pieces(reader, wrap(big) + wrap(b"MSH|next"), list(range(0, 210_000, 4096)))
    assert len(frames) == 2
    assert frames[0].size == len(big) and frames[0].data == big[:KEEP_OF_OVERSIZED]
    assert frames[1].data == b"MSH|next" and frames[1].size is None


def test_bytes_outside_a_frame_are_junk_answered_once_per_read():
    reader = FrameReader(limit=1000)
    assert [f.junk for f in reader.feed(b"hello\r\n")] == [True]
    assert reader.feed(b"\r\n") == []  # whitespace between frames is not junk
    frames = reader.feed(b"noise" + wrap(b"MSH|a"))
    assert [(f.junk, f.data) for f in frames] == [(True, b""), (False, b"MSH|a")]


def test_a_process_leaves_a_new_connection_to_one_serving_fewer_but_not_for_long():
    """`Balance` without forking: this process (slot 0) serves one connection, the other
    none. It declines the next one while the other may take it, then takes it itself
    (that process may be slow to wake), and counts it until the connection is shut; a
    connection arriving later is left to the other process again."""
    server = Server(("127.0.0.1", 0), receive=lambda raw: b"", refuse_junk=lambda: b"", max_bytes=1024)
    server.socket.setblocking(False)
    server.balance = Balance(2)
    server.balance.add(1)
    try:
        with socket.create_connection(server.server_address[:2]):
            start, declined, request = time.monotonic(), 0, None
            while request is None:  # the serve loop asks again and again while it waits
                try:
                    request, _ = server.get_request()
                except BlockingIOError:
                    declined += 1
            assert declined > 1 and time.monotonic() - start >= BALANCE_GRACE_SECONDS
            assert list(server.balance.counts) == [2, 0]
            server.shutdown_request(request)
            assert list(server.balance.counts) == [1, 0]
        with socket.create_connection(server.server_address[:2]):
            with pytest.raises(BlockingIOError):
                server.get_request()
            time.sleep(0.05)
            server.socket.accept()[0].close()  # the other process took it
        time.sleep(2 * BALANCE_GRACE_SECONDS)  # nothing waiting: the loop did not ask
        with socket.create_connection(server.server_address[:2]):
            with pytest.raises(BlockingIOError):
                server.get_request()
    finally:
        server.server_close()
