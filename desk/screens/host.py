"""What a screen needs of the app that hosts it: a protocol, so that screens never import
the app (which imports them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from engine.live.snapshot import EngineControl, Snapshot


class DeskHost(Protocol):
    control: EngineControl
    snapshot: Snapshot | None
    title: str
    clock: Callable[[], datetime]

    def after_action(self, reason: str, done: str = "") -> None: ...
    # `reason`: why the engine refused ("" if it did not); `done`: what to confirm else.
