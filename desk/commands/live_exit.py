"""How a live run (the desk, `--headless`) ends: the engine is stopped, and if it had
stopped on an error the user reads why in one line, whatever else failed after it."""

from __future__ import annotations

import sys

from engine.errors import DeskError
from engine.live.engine import LiveEngine


def stop_and_report(engine: LiveEngine) -> int:
    """Stop the engine. 0 after a clean run; 1 with one line on stderr if the engine had
    stopped on an error (saying too when its last entries could not be written). A stop
    that fails after a clean run raises its own one-line DeskError."""
    unsaved = ""
    try:
        engine.stop()
    except DeskError:
        if engine.error is None:
            raise
        unsaved = "; its last entries could not be written either"
    if engine.error is None:
        return 0
    print(f"desk: the engine stopped: {engine.failure()}{unsaved}; what was committed is in "
          "the database and the audit log records it", file=sys.stderr)
    return 1
