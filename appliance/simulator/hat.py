"""The simulated HAT: the real drivers on simulated buses, with stations and cars behind them.

Built from the same board description as the real HAT. The MCP3208 sees the peak
detectors through the level-shift network (plus noise, and its own transition noise), the
meters see the car side of each contactor, the pilot PWM and GPIO lines drive the station
models, the hardware watchdog and RCD modules sit in the contactor path exactly as on the
board, and each contactor's auxiliary contact drives its GPIO input from the real state of
the contacts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Literal

from appliance.board.description import BoardDescription
from appliance.board.scaling import Scaling
from appliance.clock import Clock
from appliance.drivers.hat import build_drivers
from appliance.drivers.interfaces import HatDrivers
from appliance.drivers.pilot_pwm import PigpioPilotOutput
from appliance.simulator.atm90e32 import PhaseQuantities, SimAtm90e32
from appliance.simulator.gpio_sim import SimPinFactory
from appliance.simulator.mcp3208 import SimMcp3208
from appliance.simulator.peak_detector import PeakDetector
from appliance.simulator.pigpio_sim import SimPigpio
from appliance.simulator.spi_bus import SimSpiBus
from appliance.simulator.station_model import HardwareEvent, SimStation

AdcSignal = Literal["cp_high", "cp_low", "pp"]


class SimulatedHat:
    def __init__(self, board: BoardDescription, clock: Clock, *, voltage_v: float = 230.0, noise_v: float = 0.05,
                 seed: int = 0, ambient_c: float = 30.0,
                 on_event: Callable[[HardwareEvent], None] | None = None) -> None:
        self.board = board
        self.clock = clock
        self.scaling = Scaling(board)
        self.noise_v = noise_v
        self.rail_v = board.pilot.rail_v
        self.temperature_c = ambient_c
        self._rng = random.Random(seed)
        self._on_event = on_event or (lambda ev: None)
        self.stations = {sid: SimStation(sid, board, self._on_event) for sid in range(1, board.board.stations + 1)}
        for st in self.stations.values():
            st.line_voltage_v = voltage_v
        self._last_t = clock.now()
        self._last_kick = clock.now()
        self.watchdog_alive = True
        self._inputs = self._adc_inputs()
        # buses
        self.spi = SimSpiBus(clock)
        self.adc = SimMcp3208(self._adc_input, board.adc.vref_v, random.Random(self._rng.getrandbits(64)))
        self.spi.attach(board.adc.spi_bus, board.adc.spi_cs, self.adc)
        self.meters = {}
        for sid in self.stations:
            meter = SimAtm90e32(self._meter_source(sid), clock, board.meter)
            self.meters[sid] = meter
            self.spi.attach(board.meter.spi_bus, board.meter_cs(sid), meter)
        self.pigpio = SimPigpio(clock, self._on_pwm)
        self.pins = SimPinFactory(clock, self._on_output)
        self._pwm_station = {board.pins(sid).pilot_pwm: sid for sid in self.stations}
        self._outputs: dict[int, tuple[int, str]] = {}
        for sid in self.stations:
            pins = board.pins(sid)
            self._outputs[pins.contactor] = (sid, "contactor")
            self._outputs[pins.rcd_test] = (sid, "rcd_test")
        self._drivers: HatDrivers | None = None
        self._driven: dict[int, bool] = {}  # input lines as last driven
        self._update_station_lines(clock.now())  # inputs at their levels before any driver reads them

    def drivers(self) -> HatDrivers:
        """The real drivers, wired to this HAT's buses (built once)."""
        if self._drivers is None:
            freq = self.board.pilot.pwm_frequency_hz
            self._drivers = build_drivers(
                self.board,
                spidev_factory=self.spi.spidev_factory,
                ioctl=self.spi.ioctl,
                pwm_factory=lambda gpio: PigpioPilotOutput(self.pigpio, gpio, freq),
                pin_factory=self.pins,
                simulated=True,
            )
        return self._drivers

    # ------------------------------------------------------------------ analog front end
    def _adc_inputs(self) -> dict[int, Callable[[float], float]]:
        """ADC channel -> what drives its input pin at time t (volts at the pin)."""
        s, b = self.scaling, self.board
        inputs: dict[int, Callable[[float], float]] = {
            b.adc.channels.rail_12v: lambda t: s.adc_volts_from_rail(self.rail_v),
            b.adc.channels.temperature: lambda t: s.adc_volts_from_temperature(self.temperature_c),
        }
        for sid, st in self.stations.items():
            inputs[b.adc_channel("cp_high", sid)] = self._pilot_input(st.cp_high)
            inputs[b.adc_channel("cp_low", sid)] = self._pilot_input(st.cp_low)
            inputs[b.adc_channel("pp", sid)] = self._pp_input(st)
        return inputs

    def _adc_input(self, channel: int, t: float) -> float:
        source = self._inputs.get(channel)
        return source(t) if source is not None else 0.0

    def _noise(self) -> float:
        return self._rng.gauss(0.0, self.noise_v) if self.noise_v > 0 else 0.0

    def _pilot_input(self, detector: PeakDetector) -> Callable[[float], float]:
        return lambda t: self.scaling.adc_volts_from_pilot(detector.value(t) + self._noise())

    def _pp_input(self, st: SimStation) -> Callable[[float], float]:
        return lambda t: self.scaling.adc_volts_from_pp_ohms(st.pp_ohms()) + self._noise() * 0.01

    def _meter_source(self, sid: int) -> Callable[[float], PhaseQuantities]:
        def source(t: float) -> PhaseQuantities:
            st = self.stations[sid]
            return PhaseQuantities(
                voltage_v=st.phase_voltages(),
                current_a=st.phase_currents(),
                power_factor=(0.99, 0.99, 0.99),
                frequency_hz=self.board.meter.line_frequency_hz,
                temperature_c=self.temperature_c,
            )

        return source

    # ------------------------------------------------------------------ digital lines
    def _on_pwm(self, gpio: int, frequency_hz: float, duty: float, t: float) -> None:
        sid = self._pwm_station.get(gpio)
        if sid is not None:
            self.stations[sid].set_duty(t, duty)

    def _on_output(self, gpio: int, state: bool, t: float) -> None:
        if gpio == self.board.gpio.watchdog_kick:
            self._kick(t)
            return
        target = self._outputs.get(gpio)
        if target is None:
            return
        sid, what = target
        st = self.stations[sid]
        if what == "contactor":
            st.set_coil_drive(t, state)
        else:
            st.set_rcd_test(t, state)
        self._update_station_lines(t)

    def _kick(self, t: float) -> None:
        """An edge on the monostable's trigger: a late one finds it run out, and restarts it."""
        self._expire_watchdog(t)
        self._last_kick = t
        if not self.watchdog_alive:
            self.watchdog_alive = True
            self._update_station_lines(t)

    def _expire_watchdog(self, t: float) -> None:
        expiry = self._last_kick + self.board.watchdog.timeout_ms / 1000
        if t > expiry and self.watchdog_alive:
            self.watchdog_alive = False
            for st in self.stations.values():
                st.update_contacts(expiry, False)

    def _update_station_lines(self, t: float) -> None:
        for sid, st in self.stations.items():
            st.update_contacts(t, self.watchdog_alive)
            pins = self.board.pins(sid)
            rcd, aux = self.board.rcd.fault_active_high, self.board.contactor.aux_active_high
            for gpio, level in ((pins.rcd_fault_dc, st.rcd_dc == rcd), (pins.rcd_fault_ac, st.rcd_ac == rcd),
                                (pins.contactor_aux, st.contacts == aux)):
                if self._driven.get(gpio) != level:
                    self._driven[gpio] = level
                    self.pins.drive(gpio, level)

    # ------------------------------------------------------------------ time
    def advance(self, t: float) -> None:
        """Run the physics up to `t`: watchdog, contacts, RCD and aux lines, cars."""
        self._expire_watchdog(t)
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        for st in self.stations.values():
            st.update_car(t, dt)
        self._update_station_lines(t)

    # ------------------------------------------------------------------ fault injection
    def adc_stuck(self, on: bool = True) -> None:
        self.spi.stuck(self.board.adc.spi_cs, on, bus=self.board.adc.spi_bus)

    def spi_error(self, until_t: float) -> None:
        self.spi.inject_error(self.board.adc.spi_cs, until_t, bus=self.board.adc.spi_bus)
        for sid in self.stations:
            self.spi.inject_error(self.board.meter_cs(sid), until_t, bus=self.board.meter.spi_bus)

    def meter_loss(self, sid: int) -> None:
        self.meters[sid].lose()

    def adc_glitch(self, sid: int, signal: AdcSignal, volts: float, conversions: int = 1) -> None:
        """The next `conversions` conversions of a station's channel read `volts`.

        `volts` is what the channel means: pilot volts for cp_high/cp_low (12.9 reads as
        state A), the PP sense node for pp (0 V = PP shorted to PE, the reference = open).
        """
        pin_v = volts if signal == "pp" else self.scaling.adc_volts_from_pilot(volts)
        self.adc.glitch(self.board.adc_channel(signal, sid), pin_v, conversions)

    def adc_channel_stuck(self, sid: int, signal: AdcSignal) -> None:
        """A station's channel repeats its last conversion from now on."""
        self.adc.stick(self.board.adc_channel(signal, sid))
