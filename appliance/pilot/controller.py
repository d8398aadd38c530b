"""One control tick: read the HAT, run the engine, drive the HAT, kick the watchdog.

The only place where the engine's decisions reach hardware. Outputs are written only
when they change (a PWM write restarts the period), and any unexpected error drives
every station to its safe state: contactors open, pilot at -12 V.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from appliance.board.description import BoardDescription
from appliance.clock import Clock
from appliance.drivers.interfaces import BusError, HatDrivers, MeterReading, StationDrivers
from appliance.j1772.states import PilotMode
from appliance.pilot.engine import BoardInputs, PilotEngine
from appliance.pilot.sensing import Sensing
from appliance.pilot.station import StationInputs, StationOutputs


@dataclass
class _Applied:
    pilot: tuple[PilotMode, float | None] | None = None
    contactor: bool | None = None
    rcd_test: bool | None = None
    led: bool | None = None


class PilotController:
    """The one bridge between the engine and the drivers, so that no decision touches hardware and
    every failure of a write ends in the same safe state."""

    def __init__(self, drivers: HatDrivers, engine: PilotEngine, board: BoardDescription, clock: Clock) -> None:
        self.drivers = drivers
        self.engine = engine
        self.clock = clock
        self.sensing = Sensing(board, engine.timing, sorted(engine.stations))
        self._applied = {s.station: _Applied() for s in drivers.stations}
        self._meter_due = {s.station: 0.0 for s in drivers.stations}
        self._meter_started = {s.station: False for s in drivers.stations}
        self._output_errors: dict[int, str | None] = {s.station: None for s in drivers.stations}
        self._lost: str | None = None  # the outputs were forced safe behind the engine's back
        self.ticks = 0

    def start(self) -> None:
        """Outputs idle (contactors open, pilot +12 V: charging not offered), then the meters."""
        self.safe_state(PilotMode.X1)
        period = self.engine.timing.meter_period_s
        for i, st in enumerate(self.drivers.stations):
            self._meter_due[st.station] = self.clock.now() + period * i / max(1, len(self.drivers.stations))
            self._start_meter(st)

    def _start_meter(self, st: StationDrivers) -> str | None:
        try:
            st.meter.start()
        except BusError as exc:
            self._meter_started[st.station] = False
            return f"meter start-up failed: {exc}"
        self._meter_started[st.station] = True
        return None

    def tick(self) -> dict[int, StationOutputs]:
        """One whole control period: read the HAT, run the engine, drive the HAT, kick the watchdog."""
        now = self.clock.now()
        outputs = self.engine.step(now, self.read(now))
        self.apply(outputs)
        return outputs

    def read(self, now: float) -> BoardInputs:
        """Everything the engine needs this tick, including what went wrong with last tick's outputs."""
        try:
            bursts, bus_error = self.drivers.adc.burst(self.sensing.channels, 1), None
        except BusError as exc:
            bursts, bus_error = None, str(exc)
        sensed = self.sensing.update(bursts, bus_error)
        stations = {}
        for st in self.drivers.stations:
            sid = st.station
            dc, ac = st.io.rcd_fault()
            meter, meter_error = self._read_meter(st, now)
            s = sensed.stations[sid]
            stations[sid] = StationInputs(s.cp_high_v, s.cp_low_v, s.pp_ohm, dc, ac, meter, meter_error,
                                          contactor_aux=st.io.contactor_aux(), sensing_error=s.error,
                                          output_error=self._output_errors[sid])
        inputs = BoardInputs(stations, sensed.temperature_c, sensed.error, sensed.rail_error, outputs_lost=self._lost)
        self._lost = None
        return inputs

    def apply(self, outputs: dict[int, StationOutputs]) -> None:
        """Drive what the engine decided; a station whose outputs fail is put in its safe state."""
        for st in self.drivers.stations:
            try:
                self._apply(st, outputs[st.station])
                self._output_errors[st.station] = None
            except BusError as exc:
                self._output_errors[st.station] = str(exc)
                self._safe_station(st, PilotMode.F)
        self.drivers.watchdog.kick()
        self.ticks += 1

    def _read_meter(self, st: StationDrivers, now: float) -> tuple[MeterReading | None, str | None]:
        if now < self._meter_due[st.station]:
            return None, None
        self._meter_due[st.station] = now + self.engine.timing.meter_period_s
        if not self._meter_started[st.station]:
            error = self._start_meter(st)
            if error is not None:
                return None, error
        try:
            return st.meter.read(), None
        except BusError as exc:
            self._meter_started[st.station] = False  # re-initialise: the chip may have reset
            return None, f"meter not answering: {exc}"

    def _apply(self, st: StationDrivers, out: StationOutputs) -> None:
        applied = self._applied[st.station]
        # contactor first when opening, pilot first when closing: never energise with a stale pilot
        if not out.contactor and applied.contactor is not False:
            st.io.set_contactor(False)
            applied.contactor = False
        pilot = (out.pilot, out.duty_pct)
        if pilot != applied.pilot:
            if out.pilot is PilotMode.X2 and out.duty_pct is not None:
                st.pilot.set_pwm(out.duty_pct)
            elif out.pilot is PilotMode.X1:
                st.pilot.set_high()
            else:
                st.pilot.set_low()
            applied.pilot = pilot
        if out.contactor and applied.contactor is not True:
            st.io.set_contactor(True)
            applied.contactor = True
        if out.rcd_test != applied.rcd_test:
            st.io.set_rcd_test(out.rcd_test)
            applied.rcd_test = out.rcd_test
        if out.led != applied.led:
            st.io.set_led(out.led)
            applied.led = out.led

    def safe_state(self, pilot: PilotMode = PilotMode.F, why: str | None = None) -> None:
        """Contactors open and pilots at -12 V (or `pilot`), on every station, whatever fails.

        With `why`, the engine hears of it on the next tick: it must not believe its contactors
        are still closed, and they close again only through the full sequence.
        """
        for st in self.drivers.stations:
            self._safe_station(st, pilot)
        if why is not None:
            self._lost = why

    def close(self) -> None:
        """At the end of the control loop: every station safe, then its outputs given back in that
        state (pilot held at F, contactor and test line released), whatever fails."""
        self.safe_state()
        for st in self.drivers.stations:
            for release in (st.pilot.close, st.io.close):
                with contextlib.suppress(Exception):  # keep going: the next output may still be released
                    release()

    def _safe_station(self, st: StationDrivers, pilot: PilotMode) -> None:
        applied = self._applied[st.station]
        drive_pilot = st.pilot.set_high if pilot is PilotMode.X1 else st.pilot.set_low
        actions: tuple[Callable[[], None], ...] = (
            lambda: st.io.set_contactor(False), drive_pilot, lambda: st.io.set_rcd_test(False)
        )
        for action in actions:
            with contextlib.suppress(Exception):  # keep going: the next output may still work
                action()
        applied.contactor, applied.pilot, applied.rcd_test = False, (pilot, None), False
