"""SPEC §3 state table as test vectors: voltage -> state, and the bands' edges."""

import pytest

from appliance.j1772.states import VehicleState, classify, diode_ok, is_rise

S = VehicleState


@pytest.mark.parametrize(
    ("volts", "state"),
    [(12, S.A), (9, S.B), (6, S.C), (3, S.D), (0, S.E), (-12, S.F),
     (11, S.A), (13, S.A), (8, S.B), (10, S.B), (5, S.C), (7, S.C), (2, S.D), (4, S.D), (-1, S.E), (1, S.E)],
)
def test_voltage_to_state(volts: float, state: VehicleState) -> None:
    assert classify(volts) is state


@pytest.mark.parametrize("volts", [10.5, 7.5, 4.5, 1.5, -5, 13.5, -13.5])
def test_between_bands_is_no_state(volts: float) -> None:
    assert classify(volts) is None


def test_rises_are_towards_fewer_demands() -> None:
    assert is_rise(S.C, S.B) and is_rise(S.C, S.A) and is_rise(S.B, S.A)
    assert not is_rise(S.B, S.C) and not is_rise(S.A, S.B) and not is_rise(S.C, S.D)


@pytest.mark.parametrize(
    ("volts", "ok"), [(-12, True), (-11.2, True), (-12.9, True), (-8.8, False), (-5, False), (0, False)]
)
def test_diode_check(volts: float, ok: bool) -> None:
    assert diode_ok(volts) is ok
