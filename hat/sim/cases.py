"""The simulated situations: every car state at several duty cycles, with and without the
car's diode, X1, E and F, while PP resistors and board temperatures ride along.

The two stations always see different loads in the same run, so a swapped channel or a
station wired to the other's ADC inputs shows up as a wrong reading.
"""

from __future__ import annotations

from itertools import cycle

from hat.sim.deck import Case, StationStimulus
from hat.sim.expected import CarLoad

PWM_DUTIES = (0.10, 0.25, 0.55, 0.96)
STATE_PAIRS = (("A", "B"), ("B", "C"), ("C", "D"), ("D", "A"))
NO_DIODE_DUTIES = (0.10, 0.55, 0.96)
NO_DIODE_PAIRS = (("B", "C"), ("D", "B"))
PP_OHMS: tuple[float | None, ...] = (100.0, 150.0, 220.0, 330.0, 470.0, 680.0, 1000.0,
                                     1500.0, None)
TEMPERATURES_C = (-20.0, 0.0, 25.0, 50.0, 85.0)


def standard_cases() -> list[Case]:
    plan: list[tuple[str, tuple[tuple[float, CarLoad], ...]]] = []
    for duty in PWM_DUTIES:
        for a, b in STATE_PAIRS:
            plan.append((f"pwm{duty * 100:02.0f}_{a}{b}",
                         ((duty, CarLoad(a)), (duty, CarLoad(b)))))
    for duty in NO_DIODE_DUTIES:
        for a, b in NO_DIODE_PAIRS:
            plan.append((f"pwm{duty * 100:02.0f}_{a}{b}_nodiode",
                         ((duty, CarLoad(a, diode=False)), (duty, CarLoad(b, diode=False)))))
    for a, b in (("A", "B"), ("C", "D")):
        plan.append((f"x1_{a}{b}", ((1.0, CarLoad(a)), (1.0, CarLoad(b)))))
    # E: CP shorted to PE while PWM runs. F: pilot driven to -12 V (car in B).
    plan.append(("e_f", ((0.5, CarLoad("E")), (0.0, CarLoad("B")))))
    plan.append(("f_e", ((0.0, CarLoad("B")), (0.5, CarLoad("E")))))

    pp, temps = cycle(PP_OHMS), cycle(TEMPERATURES_C)
    return [
        Case(name, tuple(StationStimulus(duty, load, next(pp)) for duty, load in stations),
             next(temps))
        for name, stations in plan
    ]
