"""The pilot's log lives in RAM (no disk I/O in the control loop); the supervisor fetches it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LogEntry:
    seq: int
    t: float
    level: str
    station: int | None
    message: str


class LogRing:
    def __init__(self, capacity: int = 4096) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._seq = 0

    def log(self, t: float, level: str, message: str, station: int | None = None) -> None:
        self._seq += 1
        self._entries.append(LogEntry(self._seq, t, level, station, message))

    def since(self, seq: int = 0, limit: int = 1000) -> list[LogEntry]:
        """Entries with a sequence number above `seq`, oldest first; older ones may have rolled off."""
        return [e for e in self._entries if e.seq > seq][:limit]

    @property
    def last_seq(self) -> int:
        return self._seq
