"""The pigpiod connection against a pigpiod on 127.0.0.1 that answers, hangs, recovers or is gone."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import pigpio
import pytest

from appliance.drivers.interfaces import BusError
from appliance.drivers.pilot_pwm import PigpioConnection, PigpioPilotOutput

CMD_BR1, CMD_NC, CMD_HP, CMD_NOIB = 10, 21, 86, 99
NOTIFY_HANDLE = 3
HARDWARE_PWM_GPIOS = {12, 13, 18, 19}


@dataclass(frozen=True)
class Command:
    connection: int  # accepted connections, numbered from 0
    cmd: int
    p1: int
    p2: int
    extension: bytes


class FakePigpiod:
    """pigpiod's socket protocol: 16-byte commands (plus p3 extension bytes), 16-byte replies.

    While `answering` is clear it reads commands and holds their replies back, as a daemon
    that hangs; the held replies go out late once it answers again, with PI_NOT_PERMITTED
    as their result, so that a client that took one for a later command's answer would fail.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self.answering = threading.Event()
        self.answering.set()
        self.commands: list[Command] = []
        self.connections: list[socket.socket] = []
        self.closed_by_client: list[int] = []
        self._closing = False
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def pwm_writes(self) -> list[tuple[int, int, int, int]]:
        """(connection, gpio, frequency, duty) of every hardware_PWM command received."""
        return [
            (c.connection, c.p1, c.p2, struct.unpack("I", c.extension)[0]) for c in self.commands if c.cmd == CMD_HP
        ]

    def close(self) -> None:
        self._closing = True
        self.answering.set()
        self._threads[0].join(timeout=1)  # accepts no more: every connection is in the list
        for conn in self.connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads[1:]:
            thread.join(timeout=1)
        for conn in self.connections:
            conn.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            number = len(self.connections)
            self.connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        try:
            while (header := _recv_exact(conn, 16)) is not None:
                cmd, p1, p2, p3 = struct.unpack("IIII", header)
                extension = _recv_exact(conn, p3) if p3 else b""
                if extension is None:
                    break
                self.commands.append(Command(number, cmd, p1, p2, extension))
                if cmd == CMD_NC:  # closes a notification handle: no reply
                    continue
                result = _result(cmd, p1)
                if not self.answering.is_set():
                    self.answering.wait()
                    result = pigpio.PI_NOT_PERMITTED & 0xFFFFFFFF
                conn.sendall(struct.pack("IIII", cmd, p1, p2, result))
        except OSError:
            pass  # the client closed the connection; a late reply has nowhere to go
        if not self._closing:
            self.closed_by_client.append(number)


def _result(cmd: int, p1: int) -> int:
    """NOIB opens a notification handle; HP refuses a GPIO without hardware PWM, as pigpiod does."""
    if cmd == CMD_NOIB:
        return NOTIFY_HANDLE
    if cmd == CMD_HP and p1 not in HARDWARE_PWM_GPIOS:
        return pigpio.PI_NOT_HPWM_GPIO & 0xFFFFFFFF
    return 0


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class StepClock:
    """Monotonic time that moves only when the test says so, for the retry interval."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Connect(Protocol):
    def __call__(self, port: int, *, timeout_s: float = ..., connect_timeout_s: float = ...) -> PigpioConnection: ...


@pytest.fixture
def daemon() -> Iterator[FakePigpiod]:
    server = FakePigpiod()
    yield server
    server.close()


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def connection_to(clock: StepClock) -> Iterator[Connect]:
    """PigpioConnection to 127.0.0.1 on the step clock, all closed after the test.

    Patient timeouts unless a test is about them: on a loaded test machine the fake daemon's
    threads can take longer than the appliance's 20 ms to answer.
    """
    made: list[PigpioConnection] = []

    def make(port: int, *, timeout_s: float = 0.5, connect_timeout_s: float = 1.0) -> PigpioConnection:
        made.append(
            PigpioConnection("127.0.0.1", port, timeout_s=timeout_s, connect_timeout_s=connect_timeout_s, clock=clock)
        )
        return made[-1]

    yield make
    for connection in made:
        connection.close()


def timed(action: Callable[[], object]) -> tuple[str, float]:
    """The message of the BusError that `action` raises, and how long it took to raise it."""
    start = time.monotonic()
    with pytest.raises(BusError) as error:
        action()
    return str(error.value), time.monotonic() - start


def wait_until(condition: Callable[[], bool]) -> None:
    """For what the daemon's threads see after the client has moved on."""
    deadline = time.monotonic() + 1.0
    while not condition():
        assert time.monotonic() < deadline, "the daemon never saw it"
        time.sleep(0.002)


def connect_threads() -> list[threading.Thread]:
    """The connection's own connecting threads, still running."""
    return [t for t in threading.enumerate() if t.name.startswith("pigpio connect")]


def test_both_pilots_write_through_one_connection(daemon: FakePigpiod, connection_to: Connect) -> None:
    connection = connection_to(daemon.port)
    pilot1 = PigpioPilotOutput(connection, 12, 1000.0)
    pilot2 = PigpioPilotOutput(connection, 13, 1000.0)
    pilot1.set_pwm(53.3)
    pilot2.set_pwm(10.0)
    pilot1.close()
    assert daemon.pwm_writes() == [
        (0, 12, 1000, 1_000_000),  # X1 at start
        (0, 13, 1000, 1_000_000),
        (0, 12, 1000, 533_000),
        (0, 13, 1000, 100_000),
        (0, 12, 1000, 0),  # F on close
    ]
    # pigpio's notification connection is opened, then closed: the pilot needs no callbacks
    wait_until(lambda: 1 in daemon.closed_by_client)
    assert [c.cmd for c in daemon.commands if c.connection == 1] == [CMD_BR1, CMD_NOIB, CMD_NC]
    assert len(daemon.connections) == 2


@pytest.mark.parametrize("exceptions", [True, False])
def test_a_refusal_from_the_daemon_keeps_the_connection(
    daemon: FakePigpiod, connection_to: Connect, monkeypatch: pytest.MonkeyPatch, exceptions: bool
) -> None:
    monkeypatch.setattr(pigpio, "exceptions", exceptions)  # raised by the client, or returned as a code
    connection = connection_to(daemon.port)
    message, _ = timed(lambda: PigpioPilotOutput(connection, 5, 1000.0))
    assert message == "pigpio hardware_PWM(gpio 5, 1000 Hz, duty 1000000) failed: " + (
        "'GPIO has no hardware PWM'" if exceptions else "GPIO has no hardware PWM (-95)"
    )
    PigpioPilotOutput(connection, 12, 1000.0).set_pwm(25.0)
    assert daemon.pwm_writes() == [(0, 5, 1000, 1_000_000), (0, 12, 1000, 1_000_000), (0, 12, 1000, 250_000)]


def test_a_hanging_daemon_is_a_bus_error_within_the_timeout(
    daemon: FakePigpiod, connection_to: Connect, clock: StepClock
) -> None:
    connection = connection_to(daemon.port, timeout_s=0.02)  # as in the appliance
    connection.connect(timeout_s=1.0)
    daemon.answering.clear()
    message, took = timed(lambda: connection.hardware_PWM(12, 1000, 200_000))
    assert took < 0.2
    assert message == (
        f"pigpiod at 127.0.0.1:{daemon.port}: hardware_PWM(gpio 12, 1000 Hz, duty 200000) failed: "
        "no answer within 20 ms; connection dropped"
    )
    clock.t += 0.3
    message, took = timed(lambda: connection.hardware_PWM(12, 1000, 1_000_000))
    assert took < 0.05
    assert message == (
        f"pigpiod at 127.0.0.1:{daemon.port}: hardware_PWM(gpio 12, 1000 Hz, duty 1000000) not sent: "
        "connection dropped (no answer within 20 ms); next connection attempt in 0.20 s"
    )
    assert len(daemon.connections) == 2  # no connection attempt inside the retry interval


def test_the_connection_recovers_when_the_daemon_answers_again(
    daemon: FakePigpiod, connection_to: Connect, clock: StepClock
) -> None:
    pilot = PigpioPilotOutput(connection_to(daemon.port, timeout_s=0.1), 12, 1000.0)
    daemon.answering.clear()
    timed(lambda: pilot.set_pwm(20.0))
    daemon.answering.set()  # the held reply goes out now, to the connection the client dropped
    clock.t += 0.5
    pilot.set_pwm(30.0)  # would fail with PI_NOT_PERMITTED had it read the stale reply
    pilot.set_pwm(40.0)
    assert daemon.pwm_writes() == [
        (0, 12, 1000, 1_000_000),
        (0, 12, 1000, 200_000),  # never answered in time
        (2, 12, 1000, 300_000),
        (2, 12, 1000, 400_000),
    ]
    wait_until(lambda: 0 in daemon.closed_by_client)


def test_connecting_to_a_hanging_daemon_times_out_and_retries_after_the_interval(
    daemon: FakePigpiod, connection_to: Connect, clock: StepClock
) -> None:
    daemon.answering.clear()  # accepts connections, answers nothing
    connection = connection_to(daemon.port, timeout_s=0.02, connect_timeout_s=0.05)  # as in the appliance
    message, took = timed(lambda: PigpioPilotOutput(connection, 13, 1000.0))
    assert took < 0.2
    assert message == (
        f"pigpiod at 127.0.0.1:{daemon.port}: hardware_PWM(gpio 13, 1000 Hz, duty 1000000) not sent: "
        "cannot connect: no answer within 50 ms; next connection attempt in 0.50 s"
    )
    clock.t += 0.1
    message, took = timed(lambda: connection.hardware_PWM(13, 1000, 0))
    assert took < 0.05 and message.endswith("cannot connect: no answer within 50 ms; next connection attempt in 0.40 s")
    clock.t += 0.4  # the first attempt still waits for its answer: no second one beside it
    message, took = timed(lambda: connection.hardware_PWM(13, 1000, 0))
    assert took < 0.05
    assert message.endswith(
        "not sent: the connection attempt of 0.5 s ago is still unanswered; next connection attempt in 0.50 s"
    )
    assert len(daemon.connections) == 2
    daemon.answering.set()  # the late connection is stopped, not taken
    wait_until(lambda: {0, 1} <= set(daemon.closed_by_client) and not connect_threads())
    clock.t += 0.5
    connection.connect(timeout_s=1.0)
    assert len(daemon.connections) == 4 and 2 not in daemon.closed_by_client
    assert daemon.pwm_writes() == []  # nothing went through the connection that came too late


def test_a_daemon_that_is_gone_is_a_bus_error(connection_to: Connect) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    message, took = timed(lambda: PigpioPilotOutput(connection_to(port), 12, 1000.0))
    assert took < 0.2
    assert message == (
        f"pigpiod at 127.0.0.1:{port}: hardware_PWM(gpio 12, 1000 Hz, duty 1000000) not sent: "
        "cannot connect: refused or closed; next connection attempt in 0.50 s"
    )


def test_a_daemon_that_goes_away_is_a_bus_error(daemon: FakePigpiod, connection_to: Connect) -> None:
    pilot = PigpioPilotOutput(connection_to(daemon.port), 12, 1000.0)
    daemon.close()
    message, took = timed(pilot.set_low)
    assert took < 0.2
    assert message == (
        f"pigpiod at 127.0.0.1:{daemon.port}: hardware_PWM(gpio 12, 1000 Hz, duty 0) failed: "
        "connection closed by pigpiod; connection dropped"
    )
