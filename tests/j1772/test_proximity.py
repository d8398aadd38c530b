"""SPEC §3 proximity table: cable resistor -> cable rating, and the invalid ranges."""

import math

import pytest

from appliance.j1772.proximity import PPInvalid, cable_rating


@pytest.mark.parametrize(
    ("ohms", "amps"),
    [
        (1500, 13),
        (680, 20),
        (220, 32),
        (100, 63),
        (1000, 13),
        (2199, 13),
        (330, 20),
        (999, 20),
        (150, 32),
        (329, 32),
        (75, 63),
        (149, 63),
    ],
)
def test_codes(ohms: float, amps: float) -> None:
    assert cable_rating(ohms) == amps


@pytest.mark.parametrize("ohms", [59, 10, 4501, 10_000, 60, 74, 2200, 4500])
def test_invalid(ohms: float) -> None:
    with pytest.raises(PPInvalid):
        cable_rating(ohms)


def test_open_pp_is_no_cable() -> None:
    assert cable_rating(math.inf) is None
