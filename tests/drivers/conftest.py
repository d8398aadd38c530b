"""Drivers under test run on the simulated buses (`appliance.simulator`), never on mocks."""

from __future__ import annotations

import pytest

from appliance.board import BoardDescription, load_board
from tests.bus_fixtures import bus, clock, outputs, pi, pins, pwm_events  # noqa: F401


@pytest.fixture
def board() -> BoardDescription:
    return load_board()
