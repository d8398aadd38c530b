"""Which line phases a station's car loads, learned from the station's meter.

The line check counts a car only on the line phases it uses, so two 1-phase cars on stations
rotated onto different line phases may each take the full line limit. What the pilot cannot
see it counts in full: until the car has drawn current, or while its meter is in doubt, the
car loads all three. A conductor that carried current once in this plug-in stays counted.
"""

from __future__ import annotations

from appliance.drivers.interfaces import MeterReading
from appliance.wiring import conductors_to_line

USED_ABOVE_A = 1.0
"""A conductor carrying more than this is in use; less is the meter's offset or a car's standby."""

ALL_CONDUCTORS = (1, 2, 3)


class PhaseUse:
    def __init__(self, rotation: tuple[int, int, int]) -> None:
        self.rotation = rotation
        self._conductors: set[int] = set()

    @property
    def conductors(self) -> tuple[int, ...]:
        """The station's conductors (1..3 for L1..L3) the car is counted on."""
        return tuple(sorted(self._conductors)) if self._conductors else ALL_CONDUCTORS

    @property
    def line_phases(self) -> tuple[int, ...]:
        """The line phases (1..3) the car is counted on."""
        return conductors_to_line(self.rotation, self.conductors)

    def update(self, meter: MeterReading | None, trusted: bool = True) -> bool:
        """Learn from one reading; True when the car is now counted on a line phase it was not.

        An untrusted meter (faulty) puts the car back on all three; a value that is not a number
        counts as current.
        """
        before = set(self.line_phases)
        if not trusted:
            self._conductors.clear()
        elif meter is not None:
            self._conductors |= {
                c for c, amps in zip(ALL_CONDUCTORS, meter.current_a, strict=False) if not abs(amps) <= USED_ABOVE_A
            }
        return not set(self.line_phases) <= before

    def forget(self) -> None:
        """The car has gone: the next one is counted on all three until it draws."""
        self._conductors.clear()
