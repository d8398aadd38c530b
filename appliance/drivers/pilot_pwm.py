"""Pilot generators: the Pi's hardware PWM through pigpio or through the kernel's sysfs PWM.

The op-amp stage follows the GPIO: high = +12 V, low = -12 V. Constant high is state X1
(charging not offered), constant low is state F (EVSE unavailable). Both drivers start in
X1, whatever a previous process left running, and close to F: after the pilot process is
gone, a car sees a station that is not there.

pigpio's client blocks on its sockets without a timeout; `PigpioConnection` bounds every
call, so a daemon that hangs costs the control tick a bus error, not the pilot process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pigpio

from appliance.drivers.interfaces import BusError

PIGPIO_DUTY_RANGE = 1_000_000


class PigpioLike(Protocol):
    """The part of `pigpio.pi` the pilot needs (the simulator provides the same)."""

    def hardware_PWM(self, gpio: int, PWMfreq: int, PWMduty: int) -> int: ...


def _hardware_pwm_call(gpio: int, frequency_hz: int, duty: int) -> str:
    return f"hardware_PWM(gpio {gpio}, {frequency_hz} Hz, duty {duty})"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _stop(pi: pigpio.pi) -> None:
    """Close the daemon connection; errors from a connection that is already broken do not matter."""
    with contextlib.suppress(OSError):
        pi.stop()
    atexit.unregister(pi.stop)  # pigpio registers one per connection: reconnects must not pile up


def _commands_only(pi: pigpio.pi, timeout_s: float) -> None:
    """Give the command socket its timeout and end pigpio's notification thread.

    The pilot uses no pigpio callbacks, and that thread spins on its socket once pigpiod
    closes it, or stays blocked in recv while pigpiod hangs, for every dropped connection.
    """
    notify = pi._notify
    notify.stop()  # no more notifications: the thread ends on its next wake-up
    notify.sl.s.shutdown(socket.SHUT_RDWR)  # which is now: recv returns, the thread closes the socket
    pi.sl.s.settimeout(timeout_s)


class _ConnectAttempt:
    """`pigpio.pi()` in a thread of its own: its sockets have no timeout while it connects, and a
    daemon that accepts but does not answer would block the caller for good."""

    def __init__(self, host: str, port: int, timeout_s: float, started: float) -> None:
        self.started = started
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._pi: pigpio.pi | None = None
        self._abandoned = False
        self._thread = threading.Thread(
            target=self._run, args=(host, port), name=f"pigpio connect {host}:{port}", daemon=True
        )
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self, timeout_s: float) -> pigpio.pi | None:
        """The new connection (check `connected`), or None after `timeout_s`: a late one is then stopped."""
        self._thread.join(timeout_s)
        with self._lock:
            self._abandoned = self._pi is None
            return self._pi

    def _run(self, host: str, port: int) -> None:
        pi = pigpio.pi(host, port, show_errors=False)
        if pi.connected:
            try:
                _commands_only(pi, self._timeout_s)
            except OSError:
                _stop(pi)
        with self._lock:
            if not self._abandoned:
                self._pi = pi
                return
        _stop(pi)


class PigpioConnection:
    """One connection to pigpiod, shared by both stations' pilots, with every call bounded.

    A call that fails on the socket (no answer within `timeout_s`, connection closed) is a
    BusError and drops the connection: after a timeout a late reply would be read as the
    answer to the next command. The next call reconnects, within `connect_timeout_s`; after a
    failure, calls fail at once for `retry_interval_s`, so a dead daemon does not cost every
    control tick a connection attempt. Errors that pigpiod answers with are pigpio's own.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout_s: float = 0.02,
        connect_timeout_s: float = 0.05,
        retry_interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._host, self._port = host, port
        self._where = f"pigpiod at {host}:{port}"
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._retry_interval_s = retry_interval_s
        self._clock = clock
        self._lock = threading.Lock()  # one command at a time, and one reconnect
        self._pi: pigpio.pi | None = None
        self._attempt: _ConnectAttempt | None = None
        self._retry_at = -float("inf")
        self._down = "not connected yet"

    def connect(self, timeout_s: float | None = None) -> None:
        """Connect now unless connected; at start-up, give the daemon more than a tick's patience."""
        with self._lock:
            self._connected("connect", self._connect_timeout_s if timeout_s is None else timeout_s)

    def hardware_PWM(self, gpio: int, PWMfreq: int, PWMduty: int) -> int:
        call = _hardware_pwm_call(gpio, PWMfreq, PWMduty)
        with self._lock:
            pi = self._connected(f"{call} not sent", self._connect_timeout_s)
            try:
                return int(pi.hardware_PWM(gpio, PWMfreq, PWMduty))
            except (OSError, struct.error) as e:
                if isinstance(e, TimeoutError):
                    what = f"no answer within {_ms(self._timeout_s)}"
                elif isinstance(e, struct.error):  # recv returned less than a reply: end of stream
                    what = "connection closed by pigpiod"
                else:
                    what = str(e)
                self._drop(what)
                raise BusError(f"{self._where}: {call} failed: {what}; connection dropped") from e

    def close(self) -> None:
        with self._lock:
            self._drop("closed")

    def _connected(self, action: str, timeout_s: float) -> pigpio.pi:
        if self._pi is None:
            now = self._clock()
            if now >= self._retry_at:
                self._retry_at = now + self._retry_interval_s
                self._pi = self._reconnect(now, timeout_s)
            if self._pi is None:
                raise BusError(
                    f"{self._where}: {action}: {self._down}; "
                    f"next connection attempt in {self._retry_at - now:.2f} s"
                )
        return self._pi

    def _reconnect(self, now: float, timeout_s: float) -> pigpio.pi | None:
        """A new connection, or None with the reason in `_down`."""
        if self._attempt is not None and self._attempt.running():
            self._down = f"the connection attempt of {now - self._attempt.started:.1f} s ago is still unanswered"
            return None
        self._attempt = _ConnectAttempt(self._host, self._port, self._timeout_s, now)
        pi = self._attempt.result(timeout_s)
        if pi is not None and pi.connected:
            return pi
        why = "refused or closed" if pi is not None else f"no answer within {_ms(timeout_s)}"
        self._down = f"cannot connect: {why}"
        return None

    def _drop(self, why: str) -> None:
        if self._pi is not None:
            _stop(self._pi)
            self._pi = None
        self._down = f"connection dropped ({why})"
        self._retry_at = self._clock() + self._retry_interval_s


def _check_duty(duty_pct: float) -> None:
    if not 0.0 <= duty_pct <= 100.0:
        raise ValueError(f"duty must be 0..100 %, not {duty_pct}")


class PigpioPilotOutput:
    """Hardware PWM through the pigpio daemon (Pi 4 and earlier): a `PigpioConnection` on the Pi."""

    def __init__(self, pi: PigpioLike, gpio: int, frequency_hz: float) -> None:
        self._pi = pi
        self._gpio = gpio
        self._frequency_hz = round(frequency_hz)
        self.set_high()

    def set_pwm(self, duty_pct: float) -> None:
        _check_duty(duty_pct)
        self._apply(round(duty_pct * PIGPIO_DUTY_RANGE / 100))

    def set_high(self) -> None:
        self._apply(PIGPIO_DUTY_RANGE)

    def set_low(self) -> None:
        self._apply(0)

    def close(self) -> None:
        """Leave the pilot in F; pigpiod keeps it there after this process is gone."""
        self.set_low()

    def _apply(self, duty: int) -> None:
        call = "pigpio " + _hardware_pwm_call(self._gpio, self._frequency_hz, duty)
        try:
            rc = self._pi.hardware_PWM(self._gpio, self._frequency_hz, duty)
        except (pigpio.error, OSError) as e:
            raise BusError(f"{call} failed: {e}") from e
        if rc < 0:
            raise BusError(f"{call} failed: {pigpio.error_text(rc)} ({rc})")


def _write_attr(path: Path, value: int) -> None:
    """One write(2) of a decimal number, as sysfs attributes expect."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


class SysfsPilotOutput:
    """Hardware PWM through /sys/class/pwm (Pi 5, Debian kernels, no pigpiod needed)."""

    def __init__(self, chip_dir: Path, channel: int, frequency_hz: float) -> None:
        self._dir = Path(chip_dir) / f"pwm{channel}"
        self._period_ns = round(1e9 / frequency_hz)
        try:
            if not self._dir.is_dir():
                _write_attr(Path(chip_dir) / "export", channel)
            if not self._dir.is_dir():
                raise BusError(f"{self._dir}: missing after exporting channel {channel}")
        except OSError as e:
            raise BusError(f"{chip_dir}: cannot export PWM channel {channel}: {e}") from e
        # The kernel refuses duty_cycle > period at every step: duty 0 first fits any period.
        self._write("duty_cycle", 0)
        self._write("period", self._period_ns)
        self.set_high()
        self._write("enable", 1)

    def set_pwm(self, duty_pct: float) -> None:
        _check_duty(duty_pct)
        self._write("duty_cycle", round(self._period_ns * duty_pct / 100))

    def set_high(self) -> None:
        self._write("duty_cycle", self._period_ns)

    def set_low(self) -> None:
        self._write("duty_cycle", 0)

    def close(self) -> None:
        """Leave the channel exported and enabled at constant low (F): unexporting would
        release the pin and leave the pilot stage's input floating."""
        self.set_low()

    def _write(self, name: str, value: int) -> None:
        try:
            _write_attr(self._dir / name, value)
        except OSError as e:
            raise BusError(f"{self._dir / name} <- {value}: {e}") from e
