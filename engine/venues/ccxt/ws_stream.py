"""One websocket stream that keeps itself open: reconnects with doubling delays after a drop
or a silence, and tells its owner each time it is (re)connected so the owner can back-fill
what it missed. Used by the kline feed and the trade / order-book stream."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


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
                while not stopping.is_set():
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                    # cancellation that arrives as a message does, and the stream then
                    # waited on for the next message past `StreamThread.stop`'s join.
                    async with asyncio.timeout(idle_timeout):
                        message = await ws.recv()
                    await on_message(message)
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
    """Runs coroutines (one per stream) on an asyncio loop of its own thread.

    Blocking calls of the streams (REST back-fills) run through `blocking`, on an executor
    of the stream's own that `stop` does not wait for. Through `asyncio.to_thread` they ran
    on the loop's default executor, which `asyncio.run` waits for as it ends: a back-fill
    held up on the network kept the thread alive past `stop`'s join."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: list[asyncio.Task] = []
        self._io: ThreadPoolExecutor | None = None

    async def blocking(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on the stream's I/O thread, awaited."""
        if self._io is None:
            self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{self.name}-io")
        return await asyncio.get_running_loop().run_in_executor(self._io, fn, *args)

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
        if self._io is not None:  # a back-fill still running ends on its own
            self._io.shutdown(wait=False, cancel_futures=True)
