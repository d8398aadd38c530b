"""Real-time hygiene for the control loop: FIFO scheduling, locked memory, optional CPU pinning.

Each step is best effort: on a laptop or without privileges the loop still runs, and the
result says what could not be done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MCL_CURRENT, MCL_FUTURE = 1, 2


def make_realtime(priority: int = 50, cpu: int | None = None) -> list[str]:
    """Apply what the OS allows; returns the problems (empty when all took effect)."""
    problems = []
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, OSError, AttributeError) as exc:
        problems.append(f"SCHED_FIFO {priority}: {exc}")
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.mlockall(MCL_CURRENT | MCL_FUTURE) != 0:
            problems.append(f"mlockall: {os.strerror(ctypes.get_errno())}")
    except OSError as exc:
        problems.append(f"mlockall: {exc}")
    if cpu is not None:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as exc:
            problems.append(f"CPU {cpu}: {exc}")
    return problems
