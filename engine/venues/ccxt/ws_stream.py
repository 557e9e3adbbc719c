"""One websocket stream that keeps itself open: reconnects with doubling delays after a drop
or a silence, and tells its owner each time it is (re)connected so the owner can back-fill
what it missed. Used by the kline feed and the trade / order-book stream."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable


async def reconnecting(
    url: str,
    on_message: Callable[[str | bytes], Awaitable[None]],
    *,
    stopping: threading.Event,
    backoff: tuple[float, float] = (0.5, 30.0),
    idle_timeout: float = 60.0,
    on_connect: Callable[[], Awaitable[None]] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Read `url` until `stopping` is set or the task is cancelled."""
    import websockets

    delay = backoff[0]
    while not stopping.is_set():
        try:
            async with websockets.connect(url, open_timeout=10, close_timeout=1) as ws:
                if on_connect is not None:
                    await on_connect()
                delay = backoff[0]
                while True:
                    await on_message(await asyncio.wait_for(ws.recv(), idle_timeout))
        except asyncio.CancelledError:
            return
        except Exception as error:  # noqa: BLE001 - any failure means: reconnect
            if on_error is not None:
                on_error(error)
        if stopping.is_set():
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, backoff[1])


class StreamThread:
    """Runs coroutines (one per stream) on an asyncio loop of its own thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: list[asyncio.Task] = []

    def start(self, coroutines: Callable[[], list[Awaitable[None]]]) -> None:
        if self.thread is not None:
            return

        def main() -> None:
            async def run() -> None:
                self.tasks = [asyncio.ensure_future(c) for c in coroutines()]
                self.loop = asyncio.get_running_loop()
                if self.stopping.is_set():  # stopped before there was anything to cancel
                    for task in self.tasks:
                        task.cancel()
                await asyncio.gather(*self.tasks, return_exceptions=True)

            asyncio.run(run())

        self.thread = threading.Thread(target=main, name=self.name, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        loop, tasks = self.loop, self.tasks
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks])
        if self.thread is not None:
            self.thread.join(timeout=5)
