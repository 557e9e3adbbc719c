"""A websocket stream thread stops at once, even with a REST back-fill stuck on the
network: its blocking calls run on an executor the stop does not wait for."""

from __future__ import annotations

import threading
import time

from engine.venues.ccxt.ws_stream import StreamThread


def test_a_stop_does_not_wait_for_a_stuck_back_fill():
    streams = StreamThread("test-stream")
    started, release = threading.Event(), threading.Event()

    def stuck_backfill() -> str:
        started.set()
        release.wait(30)  # a request the network never answers
        return "late"

    async def stream() -> None:
        await streams.blocking(stuck_backfill)

    streams.start(lambda: [stream()])
    try:
        assert started.wait(5)
        began = time.monotonic()
        streams.stop()
        assert time.monotonic() - began < 3
        assert not streams.thread.is_alive()
    finally:
        release.set()
