"""Small asyncio helpers the supervisor's long-running tasks share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)
# Longer than the slowest clean-up a task does when cancelled (the MQTT link's `offline` and
# disconnect: 2 s + 10 s), so a second cancel never cuts a clean-up that is still going.
CANCEL_GRACE_S = 20.0


def stop_if_cancelled() -> None:
    """Raise CancelledError when the running task has been asked to stop.

    Python 3.11's `asyncio.wait_for`, which aiomqtt and the ocpp library use for every call,
    returns the result instead of raising when the awaited call finishes in the same step as the
    cancel: the request is lost, and a loop around such calls would run on and keep `cancel`
    waiting for good. Such loops call this on every pass; the request itself stays counted
    (`Task.cancelling`) until a CancelledError is raised.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel(task: asyncio.Task[None] | None, grace_s: float = CANCEL_GRACE_S) -> None:
    """Cancel `task` and wait until it has finished its clean-up; a task that is still running
    `grace_s` later lost the request somewhere and is cancelled again."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=grace_s)
        if not task.done():
            log.error("task %s did not stop when cancelled; cancelling it again", task.get_name())
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def cancel_all(tasks: Iterable[asyncio.Task[None] | None]) -> None:
    """Stop several tasks at once (each is asked before any is waited for) when shutting down:
    a task that had failed is not the stopper's concern, so its error is dropped here."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(Exception):
            await cancel(task)


class Backoff:
    """Pauses between reconnect attempts to a peer that is away: doubling from `first_s` up to
    `most_s`, and from `first_s` again once a connection has worked (`reset`)."""

    def __init__(self, first_s: float, most_s: float) -> None:
        self.first_s, self.most_s = first_s, most_s
        self._next = first_s

    def reset(self) -> None:
        self._next = self.first_s

    def next(self) -> float:
        """The pause before this attempt; the one after it is twice as long, up to `most_s`."""
        delay, self._next = self._next, min(self.most_s, self._next * 2)
        return delay
