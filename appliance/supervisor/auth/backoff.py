"""Login backoff per client address: after a few wrong passwords each further attempt waits
twice as long as the last, up to a cap. Kept in memory: a restart forgives, which is fine for
a LAN appliance and means a full disk cannot lock the owner out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

FREE_ATTEMPTS = 3
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 300.0
FORGET_AFTER_S = 3600.0
MAX_TRACKED = 10_000


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
