"""How many cores a computation may spread over right now."""

from __future__ import annotations

import os


def free_cores() -> int:
    """Cores this process may use that no other process is running on right now (Linux:
    the runnable count of /proc/loadavg, the calling thread included); elsewhere all of
    them. A snapshot, but a busy neighbour runs for the whole computation, and the choice
    only changes the speed, never the results."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
    try:
        with open("/proc/loadavg") as f:
            return free_of(cores, f.read())
    except OSError:
        return cores


def free_of(cores: int, loadavg: str) -> int:
    """The cores of `cores` left free by the runnable processes in a /proc/loadavg line
    ("0.52 0.58 0.59 3/321 1234": three runnable, the caller one of them); all of them
    when the line cannot be read."""
    try:
        running = int(loadavg.split()[3].split("/")[0])
    except (ValueError, IndexError):
        return cores
    return max(1, cores - max(0, running - 1))
