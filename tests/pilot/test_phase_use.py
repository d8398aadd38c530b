"""Which line phases the pilot counts a car on, learned from its station's meter."""

from __future__ import annotations

import math

import pytest

from appliance.drivers.interfaces import MeterReading
from appliance.pilot.phase_use import PhaseUse
from appliance.wiring import conductors_to_line, conductors_up_to, line_phases, per_line_phase


def reading(*amps: float) -> MeterReading:
    return MeterReading(voltage_v=(230.0,) * 3, current_a=amps, power_w=tuple(a * 230 for a in amps),  # type: ignore[arg-type]
                        power_factor=(1.0,) * 3, frequency_hz=50.0, energy_wh=0.0, temperature_c=30.0)


def test_a_car_is_counted_on_all_three_until_it_draws() -> None:
    use = PhaseUse((2, 3, 1))
    assert use.line_phases == (1, 2, 3)
    assert use.update(None) is False and use.update(reading(0.4, 0.0, 0.9)) is False
    assert use.line_phases == (1, 2, 3)


def test_a_1_phase_car_loads_the_line_phase_behind_its_l1() -> None:
    use = PhaseUse((2, 3, 1))
    assert use.update(reading(16.0, 0.2, 0.0)) is False  # fewer phases than counted: nothing to shrink
    assert use.conductors == (1,) and use.line_phases == (2,)


def test_a_phase_the_car_starts_using_is_counted_and_stays_counted() -> None:
    use = PhaseUse((3, 1, 2))
    use.update(reading(10.0, 0.0, 0.0))
    assert use.line_phases == (3,)
    assert use.update(reading(10.0, 10.0, 10.0)) is True
    assert use.line_phases == (1, 2, 3)
    assert use.update(reading(10.0, 0.0, 0.0)) is False  # back to 1 phase: still counted on all it used
    assert use.line_phases == (1, 2, 3)


def test_an_unplug_forgets_and_a_faulty_meter_counts_all_three() -> None:
    use = PhaseUse((1, 2, 3))
    use.update(reading(10.0, 0.0, 0.0))
    use.forget()
    assert use.line_phases == (1, 2, 3)
    use.update(reading(10.0, 0.0, 0.0))
    assert use.update(reading(10.0, 0.0, 0.0), trusted=False) is True
    assert use.line_phases == (1, 2, 3)


@pytest.mark.parametrize("odd", [math.nan, math.inf, -5.0])
def test_a_reading_that_is_not_a_plausible_current_counts_as_current(odd: float) -> None:
    use = PhaseUse((1, 2, 3))
    use.update(reading(10.0, 0.0, 0.0))
    assert use.update(reading(10.0, odd, 0.0)) is True and use.line_phases == (1, 2)


def test_the_rotation_maps_conductors_to_line_phases_both_ways() -> None:
    assert line_phases((2, 3, 1), 1) == (2,) and line_phases((2, 3, 1), None) == (2, 3, 1)
    assert per_line_phase((2, 3, 1), (10.0, 5.0, 1.0)) == (1.0, 10.0, 5.0)
    assert conductors_to_line((2, 3, 1), (1, 3)) == (1, 2)
    assert conductors_up_to((2, 3, 1), (2,)) == 1 and conductors_up_to((2, 3, 1), (1,)) == 3
    assert conductors_up_to((2, 3, 1), ()) == 3
