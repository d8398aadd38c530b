"""systemd's notify protocol (READY=1, WATCHDOG=1) without a dependency: one datagram each."""

from __future__ import annotations

import contextlib
import os
import socket


class SystemdNotifier:
    def __init__(self) -> None:
        self._address = os.environ.get("NOTIFY_SOCKET")
        self._sock: socket.socket | None = None
        if self._address:
            if self._address.startswith("@"):
                self._address = "\0" + self._address[1:]
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, message: str) -> None:
        if self._sock is None or self._address is None:
            return
        with contextlib.suppress(OSError):  # systemd gone or restarting: the hardware watchdog guards the contactors
            self._sock.sendto(message.encode(), self._address)
