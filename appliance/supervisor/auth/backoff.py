"""Login limits. Per client address: after a few wrong passwords each further attempt waits
twice as long as the last, up to a cap. Across all clients: at most GLOBAL_PER_MINUTE attempts
a minute, so rotating addresses buys nothing. Attempts are counted before the password is
hashed, so a burst of parallel guesses is refused at once instead of queueing for the hash.
Kept in memory: a restart forgives, which is fine for a LAN appliance and means a full disk
cannot lock the owner out."""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

FREE_ATTEMPTS = 3
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 300.0
FORGET_AFTER_S = 3600.0
MAX_TRACKED = 10_000
GLOBAL_PER_MINUTE = 30
WINDOW_S = 60.0


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class LoginBackoff:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def retry_after(self, client: str) -> float:
        """Seconds this client must still wait before it may try again (0 = go ahead)."""
        record = self._records.get(client)
        return 0.0 if record is None else max(0.0, record.blocked_until - self.clock())

    def failed(self, client: str) -> None:
        now = self.clock()
        self._forget_old(now)
        record = self._records.setdefault(client, _Record())
        record.failures += 1
        record.last = now
        if record.failures >= FREE_ATTEMPTS:
            delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (record.failures - FREE_ATTEMPTS))
            record.blocked_until = now + delay

    def succeeded(self, client: str) -> None:
        self._records.pop(client, None)

    def _forget_old(self, now: float) -> None:
        if len(self._records) < MAX_TRACKED:
            return
        self._records = {k: r for k, r in self._records.items() if now - r.last < FORGET_AFTER_S}
        if len(self._records) >= MAX_TRACKED:  # a flood of addresses: keep the most recent half
            recent = sorted(self._records.items(), key=lambda kv: kv[1].last)[MAX_TRACKED // 2:]
            self._records = dict(recent)


class LoginLimits:
    """The per-client backoff and the global limit, for every check of a secret (password or
    setup code)."""

    def __init__(self, clock: Callable[[], float], per_minute: int = GLOBAL_PER_MINUTE) -> None:
        self.clock = clock
        self.per_client = LoginBackoff(clock)
        self.per_minute = per_minute
        self._recent: deque[float] = deque()

    def retry_after(self, client: str) -> float:
        """Seconds before this client may try again (0 = go ahead)."""
        now = self.clock()
        while self._recent and now - self._recent[0] >= WINDOW_S:
            self._recent.popleft()
        everyone = self._recent[0] + WINDOW_S - now if len(self._recent) >= self.per_minute else 0.0
        return max(self.per_client.retry_after(client), everyone)

    def attempt(self, client: str) -> None:
        """Count an attempt as failed before checking it; `succeeded` takes it back."""
        self.per_client.failed(client)
        self._recent.append(self.clock())

    def succeeded(self, client: str) -> None:
        self.per_client.succeeded(client)
        if self._recent:
            self._recent.pop()


class OneAtATime:
    """Password hashes one at a time in a worker thread: scrypt takes ~16 MiB and ~50 ms on a
    Pi 4, so parallel guesses must not multiply that (one lock per event loop)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    async def run(self, func: Callable[..., T], *args: object) -> T:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock:
            return await run_in_threadpool(func, *args)
