"""How many cores a computation may spread over right now."""

from __future__ import annotations

import os
from pathlib import Path


def free_cores() -> int:
    """Cores this process may use that no other process is running on right now (Linux:
    the runnable count of /proc/loadavg less this process's own runnable threads, the
    caller among them); elsewhere all of them. A snapshot, but a busy neighbour runs for
    the whole computation, and the choice only changes the speed, never the results."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
    try:
        with open("/proc/loadavg") as f:
            return free_of(cores, f.read(), own_running())
    except OSError:
        return cores


def own_running() -> int:
    """This process's threads that are runnable now (at least the caller): a filter's
    GARCH thread beside its LightGBM fits is this process's work, not a neighbour's."""
    running = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        # "tid (name) S ...": the name may hold spaces and parentheses; the state follows
        # the last ")".
        if stat[stat.rfind(")") + 2:stat.rfind(")") + 3] == "R":
            running += 1
    return max(running, 1)


def free_of(cores: int, loadavg: str, own: int = 1) -> int:
    """The cores of `cores` left free by the runnable processes in a /proc/loadavg line
    ("0.52 0.58 0.59 3/321 1234": three runnable) other than this process's `own`
    runnable threads; all of them when the line cannot be read."""
    try:
        running = int(loadavg.split()[3].split("/")[0])
    except (ValueError, IndexError):
        return cores
    return max(1, cores - max(0, running - own))
