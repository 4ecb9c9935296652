"""Child processes that do not outlive their parent.

``sekisho serve --workers N`` starts serving processes, and each serving process starts
detection processes. If a parent is killed outright (SIGKILL, the OOM killer), nothing tells
its children: they would keep a port, models in memory and two cores busy. Each child watches
its parent instead and stops when it is gone: the parent's pid is given at start, and a daemon
thread compares it with ``os.getppid()`` (which changes when the parent dies and the child is
re-parented). Polling works whichever thread started the child (``prctl(PR_SET_PDEATHSIG)``
fires when the *thread* that forked exits, and detection processes are started from worker
threads), and on every POSIX system.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

PARENT_ENV = "SEKISHO_PARENT_PID"
"""Environment variable carrying the supervisor's pid to a serving worker."""


def watch_parent(parent: int, on_orphaned: Callable[[], None], interval: float = 0.5) -> None:
    """Call ``on_orphaned`` once, from a daemon thread, when ``parent`` is no longer ours."""
    if os.getppid() != parent:
        on_orphaned()
        return

    def watch() -> None:
        stop = threading.Event()
        while not stop.wait(interval):
            if os.getppid() != parent:
                on_orphaned()
                return

    threading.Thread(target=watch, name="sekisho-parent-watch", daemon=True).start()
