"""Debounce of the vehicle state read from the CP positive plateau (SPEC §3)."""

from __future__ import annotations

from appliance.j1772.states import VehicleState, is_rise


class StateDebouncer:
    """A new state must hold for `readings` consecutive readings; rises are taken at once.

    Rises (C->B, C->A, B->A) mean the car stopped or left: the contactor must open within
    100 ms, so they need no confirmation. Readings between bands keep the previous state;
    `out_of_band_since` tells how long that has lasted.
    """

    def __init__(self, readings: int, initial: VehicleState = VehicleState.A) -> None:
        self.readings = readings
        self.state = initial
        self._candidate: VehicleState | None = None
        self._count = 0
        self.out_of_band_since: float | None = None

    def update(self, reading: VehicleState | None, now: float) -> VehicleState:
        if reading is None:
            if self.out_of_band_since is None:
                self.out_of_band_since = now
            self._candidate, self._count = None, 0  # consecutive means consecutive: no counting across gaps
            return self.state
        self.out_of_band_since = None
        if reading is self.state:
            self._candidate, self._count = None, 0
        elif is_rise(self.state, reading):
            self._accept(reading)
        else:
            if reading is self._candidate:
                self._count += 1
            else:
                self._candidate, self._count = reading, 1
            if self._count >= self.readings:
                self._accept(reading)
        return self.state

    def _accept(self, state: VehicleState) -> None:
        self.state = state
        self._candidate, self._count = None, 0
