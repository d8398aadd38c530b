"""Drivers under test run on the simulated buses (`appliance.simulator`), never on mocks."""

from __future__ import annotations

import pytest

from appliance.board import BoardDescription, load_board
from appliance.simulator.clock import SimClock
from appliance.simulator.spi_bus import SimSpiBus, SpiChip


class FixedReply(SpiChip):
    """A chip that answers every frame with preset bytes, to test decoding of known replies."""

    spi_modes = frozenset({0, 1, 2, 3})

    def __init__(self, reply: bytes) -> None:
        self.reply = reply

    def frame(self, tx: bytes, t: float) -> bytes:
        return self.reply[: len(tx)].ljust(len(tx), b"\x00")


@pytest.fixture
def board() -> BoardDescription:
    return load_board()


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def bus(clock: SimClock) -> SimSpiBus:
    return SimSpiBus(clock)
