"""ATM90E32 driver on the simulated chip: start sequence, readings, energy, faults."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.board import BoardDescription
from appliance.drivers.atm90e32 import Atm90e32
from appliance.drivers.interfaces import BusError
from appliance.drivers.spi import SpiPort
from appliance.simulator.atm90e32 import PhaseQuantities, SimAtm90e32
from appliance.simulator.clock import SimClock
from appliance.simulator.spi_bus import SimSpiBus

CS = 1
EXPORT_I = 2500 / (229.87 * 0.95)  # phase B exports exactly 2.5 kW

MIXED = PhaseQuantities(
    voltage_v=(229.87, 229.87, 0.0),
    current_a=(31.234, EXPORT_I, 0.0),
    power_factor=(0.95, -0.95, 1.0),
    frequency_hz=50.02,
    temperature_c=-5.0,
)


def steady(q: PhaseQuantities) -> Callable[[float], PhaseQuantities]:
    return lambda t: q


def charging(amps: float) -> PhaseQuantities:
    return PhaseQuantities((230.0,) * 3, (amps,) * 3, (1.0,) * 3, 50.0, 35.0)


class Rig:
    """The simulated meter at CS1 and the driver talking to it."""

    def __init__(
        self,
        bus: SimSpiBus,
        clock: SimClock,
        board: BoardDescription,
        source: Callable[[float], PhaseQuantities],
        mode: int = 3,
    ) -> None:
        self.chip = SimAtm90e32(source, clock, board.meter)
        bus.attach(0, CS, self.chip)
        self.port = SpiPort(0, CS, mode, board.meter.max_speed_hz, bus.spidev_factory, bus.ioctl)
        self.meter = Atm90e32(self.port, board.meter)


def test_start_writes_the_documented_sequence_in_one_message(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    Rig(bus, clock, board, steady(MIXED)).meter.start()
    writes = [r for r in bus.log if not r.tx[0] & 0x80]
    assert len({r.message for r in writes}) == 1
    assert [r.tx.hex() for r in writes] == [
        "0070789a",  # SoftReset
        "007f55aa",  # CfgRegAccEn: unlock
        "00000001",  # MeterEn
        "00310861",  # PLconstH
        "0032c468",  # PLconstL
        "00330087",  # MMode0
        "00340000",  # MMode1
        "0061a028",  # UgainA
        "00627530",  # IgainA
        "0065a028",  # UgainB
        "00667530",  # IgainB
        "0069a028",  # UgainC
        "006a7530",  # IgainC
        "007f0000",  # CfgRegAccEn: lock
    ]
    readback = [r.tx.hex() for r in bus.log if r.tx[0] & 0x80]
    assert readback == [
        "80310000",
        "80320000",
        "80330000",
        "80340000",
        "80610000",
        "80620000",
        "80650000",
        "80660000",
        "80690000",
        "806a0000",
    ]
    assert {(r.mode, r.speed_hz) for r in bus.log} == {(3, 200_000)}


def test_readings_round_trip_through_the_register_encodings(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    rig = Rig(bus, clock, board, steady(MIXED))
    rig.meter.start()
    reading = rig.meter.read()
    assert reading.voltage_v == pytest.approx((229.87, 229.87, 0.0), abs=1e-9)
    assert reading.current_a[0] == pytest.approx(31.234, abs=1e-9)
    assert reading.current_a[1] == pytest.approx(EXPORT_I, abs=0.001 / 256)
    assert reading.power_w[0] == pytest.approx(229.87 * 31.234 * 0.95, abs=0.00032)
    assert reading.power_w[1] == pytest.approx(-2500.0, abs=0.00032)
    assert reading.power_factor == (0.95, -0.95, 1.0)
    assert reading.frequency_hz == pytest.approx(50.02)
    assert reading.temperature_c == -5.0
    assert reading.energy_wh == 0.0
    assert len({r.message for r in list(bus.log)[-27:]}) == 1  # the whole reading is one burst


def test_energy_accumulates_over_simulated_time(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    rig = Rig(bus, clock, board, steady(charging(32.0)))
    rig.meter.start()
    for second in range(10, 3601, 10):
        clock.advance_to(second)
        reading = rig.meter.read()
    assert reading.energy_wh == pytest.approx(3 * 230 * 32, abs=0.1)


def test_energy_of_a_ramp_and_no_energy_for_export(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    def ramp(t: float) -> PhaseQuantities:  # phase A 0 -> 32 A over 100 s, phase B exports
        return PhaseQuantities((230.0,) * 3, (min(t, 100.0) * 0.32, 10.0, 0.0), (1.0, -1.0, 1.0), 50.0, 35.0)

    rig = Rig(bus, clock, board, ramp)
    rig.meter.start()
    for second in range(5, 101, 5):
        clock.advance_to(second)
        rig.meter.read()
    assert rig.meter.read().energy_wh == pytest.approx(230 * 32 / 2 * 100 / 3600, abs=0.02)


def test_restart_keeps_the_accumulated_energy(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    rig = Rig(bus, clock, board, steady(charging(16.0)))
    rig.meter.start()
    clock.advance_to(60)
    before = rig.meter.read().energy_wh
    rig.meter.start()
    clock.advance_to(120)
    assert rig.meter.read().energy_wh == pytest.approx(2 * before, abs=0.05)


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_wrong_spi_mode_reads_garbage_and_start_fails(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription, mode: int
) -> None:
    rig = Rig(bus, clock, board, steady(MIXED), mode=mode)
    with pytest.raises(BusError, match=r"register 0x31 reads 0x[0-9A-F]{4} after writing 0x0861"):
        rig.meter.start()


def test_lost_meter_is_a_bus_error_until_restarted(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    rig = Rig(bus, clock, board, steady(charging(10.0)))
    rig.meter.start()
    rig.meter.read()
    rig.chip.lose()
    with pytest.raises(BusError, match="0xFFFF"):
        rig.meter.read()
    with pytest.raises(BusError):
        rig.meter.start()
    rig.chip.restore()  # back, but reset: unconfigured and disabled
    with pytest.raises(BusError, match="MeterEn reads 0x0000"):
        rig.meter.read()
    rig.meter.start()
    assert rig.meter.read().current_a == pytest.approx((10.0,) * 3)


def test_frequency_out_of_band_with_voltage_present_is_implausible(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    no_freq = PhaseQuantities((230.0, 0.0, 0.0), (0.0,) * 3, (1.0,) * 3, 0.0, 35.0)
    rig = Rig(bus, clock, board, steady(no_freq))
    rig.meter.start()
    with pytest.raises(BusError, match=r"0\.00 Hz with 230 V"):
        rig.meter.read()


def test_no_voltage_and_no_frequency_is_plausible(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    contactor_open = PhaseQuantities((0.0,) * 3, (0.0,) * 3, (1.0,) * 3, 0.0, 35.0)
    rig = Rig(bus, clock, board, steady(contactor_open))
    rig.meter.start()
    assert rig.meter.read().voltage_v == (0.0, 0.0, 0.0)


def test_calibration_that_does_not_fit_the_registers_is_refused(
    bus: SimSpiBus, clock: SimClock, board: BoardDescription
) -> None:
    rig = Rig(bus, clock, board, steady(MIXED))
    with pytest.raises(ValueError):
        Atm90e32(rig.port, board.meter.model_copy(update={"ugain": 0x1_0000}))
