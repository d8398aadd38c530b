"""Small asyncio helpers the supervisor's long-running tasks share."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` and wait until it has finished its clean-up."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
