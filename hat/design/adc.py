"""MCP3208 with its buffered 4.096 V reference, the SPI level shifting, rail and temperature inputs.

The ADC runs from 5 V so that it can use a 4.096 V reference (its reference input must stay
below VDD). Its inputs therefore need 5 V logic levels: a 74AHCT125 (TTL thresholds) shifts
SCLK/MOSI/CE0 up, and a 74LVC1G125 on 3.3 V brings DOUT down, enabled only while CE0 is low
so the three SPI devices can share MISO.
"""

from __future__ import annotations

from typing import Any

from appliance.board import BoardDescription
from hat.design.builder import NC, Builder
from hat.design.parts import (
    MCP1541,
    MCP3208,
    MCP6001,
    MCP6004,
    MCP9700A,
    SN74AHCT125,
    SN74LVC1G125,
)
from hat.design.pi import SPI0_MISO, SPI0_MOSI, SPI0_SCLK, chip_select_gpio, gpio
from hat.design.power import Rails

ADC_FILTER_F = 10e-9     # slow inputs: holds the sample charge (20 pF) to < 0.2 %
BUFFER_OUT_OHM = 100.0   # buffered inputs: buffer -> 100 Ohm -> 1 nF at the ADC pin
BUFFER_OUT_F = 1e-9
VREF_ISOLATION_OHM = 22.0
SENSOR_SERIES_OHM = 1e3  # isolates the MCP9700A from the filter capacitor


def adc_net(b: Builder, signal: str) -> Any:
    """The net into the ADC for a channel-map key of the board description (`cp_high_1`...)."""
    return b.net(f"ADC_{signal.upper()}")


def adc_input(b: Builder, rails: Rails, signal: str) -> Any:
    """The ADC net for a slow `signal` (PP, rail, temperature) with its filter capacitor."""
    net = adc_net(b, signal)
    b.c(ADC_FILTER_F, net, rails.gnd, f"ADC input filter {signal}")
    return net


def adc_buffers(b: Builder, rails: Rails, sources: dict[str, Any]) -> None:
    """Unity-gain buffers between the CP level-shift networks and the ADC.

    The networks have a 13 kOhm source impedance. A filter capacitor large enough to hold
    the ADC's sampling charge would also smooth away the detector's recharge at 96 % duty
    (40 us plateaus); the buffer drives a small one instead, so the ADC sees the detector
    output as it is, and the network sees no sampling kick-back.
    """
    role = "ADC input buffers"
    if len(sources) > 4:
        raise ValueError(f"one quad buffer serves 4 inputs, not {len(sources)}")
    conn: dict[str, Any] = {"VPOS": rails.p5v, "VNEG": rails.gnd}
    for unit, (signal, source) in zip("ABCD"[:len(sources)], sources.items(), strict=True):
        out = b.net(f"BUF_{signal.upper()}")
        conn.update({f"IN{unit}_P": source, f"IN{unit}_N": out, f"OUT{unit}": out})
        pin = adc_net(b, signal)
        b.r(BUFFER_OUT_OHM, out, pin, role)
        b.c(BUFFER_OUT_F, pin, rails.gnd, role, "C0G")
    for unit in "ABCD"[len(sources):]:
        spare = b.net(f"BUF_SPARE_{unit}")
        conn.update({f"IN{unit}_P": rails.gnd, f"IN{unit}_N": spare, f"OUT{unit}": spare})
    b.add(MCP6004, role, conn)
    b.decouple(rails.p5v, rails.gnd, role)


def spi_select(b: Builder, rails: Rails, board: BoardDescription, cs: int, dout: Any,
               role: str) -> Any:
    """Pull-up on chip select `cs` and a MISO buffer that drives only while it is selected."""
    cs_net = gpio(b, chip_select_gpio(board, cs))
    b.r(10e3, cs_net, rails.p3v3, role)
    b.add(SN74LVC1G125, role, {"OE": cs_net, "A": dout, "Y": gpio(b, SPI0_MISO),
                               "VCC": rails.p3v3, "GND": rails.gnd})
    b.decouple(rails.p3v3, rails.gnd, role)
    return cs_net


def reference(b: Builder, rails: Rails) -> Any:
    """4.096 V reference, buffered: the PP pull-ups alone draw up to 8 mA.

    In-loop compensation: the op-amp drives the bulk capacitance through an isolation
    resistor, DC feedback comes from the load side, AC feedback from its own output.
    """
    role = "ADC reference"
    raw, drive, fb, vref = (b.net(n) for n in ("VREF_RAW", "VREF_DRV", "VREF_FB", "VREF"))
    b.add(MCP1541, role, {"VIN": rails.p5v, "VOUT": raw, "VSS": rails.gnd})
    b.decouple(rails.p5v, rails.gnd, role)
    b.decouple(raw, rails.gnd, role, 1e-6)
    b.add(MCP6001, role, {"INA_P": raw, "INA_N": fb, "OUTA": drive, "VPOS": rails.p5v,
                          "VNEG": rails.gnd})
    b.decouple(rails.p5v, rails.gnd, role)
    b.r(VREF_ISOLATION_OHM, drive, vref, role)
    b.r(1e3, vref, fb, role)
    b.c(1e-9, drive, fb, role, "C0G")
    b.decouple(vref, rails.gnd, role, 1e-6)
    b.decouple(vref, rails.gnd, role)
    b.tp(vref, "reference test point")
    return vref


def adc(b: Builder, rails: Rails, board: BoardDescription, vref: Any) -> None:
    """MCP3208, channels wired as the board description's channel map says."""
    role = "ADC"
    channels = board.adc.channels.model_dump()
    if sorted(channels.values()) != list(range(8)):
        raise ValueError(f"the channel map must use each MCP3208 channel once: {channels}")
    clk, din, cs, dout = (b.net(n) for n in ("ADC_CLK", "ADC_DIN", "ADC_CS", "ADC_DOUT"))
    conn = {f"CH{ch}": adc_net(b, signal) for signal, ch in channels.items()}
    b.add(MCP3208, role, {**conn, "VDD": rails.p5v, "VREF": vref, "AGND": rails.gnd,
                          "DGND": rails.gnd, "CLK": clk, "DIN": din, "CS": cs, "DOUT": dout})
    b.decouple(rails.p5v, rails.gnd, role)

    shift = "ADC SPI level shift"
    ce = spi_select(b, rails, board, board.adc.spi_cs, dout, shift)
    b.add(SN74AHCT125, shift, {
        "A1": gpio(b, SPI0_SCLK), "Y1": clk, "OE1": rails.gnd,
        "A2": gpio(b, SPI0_MOSI), "Y2": din, "OE2": rails.gnd,
        "A3": ce, "Y3": cs, "OE3": rails.gnd,
        "A4": rails.gnd, "Y4": NC, "OE4": rails.p5v,
        "VCC": rails.p5v, "GND": rails.gnd,
    })
    b.decouple(rails.p5v, rails.gnd, shift)


def rail_monitor(b: Builder, rails: Rails, board: BoardDescription) -> None:
    rm = board.rail_monitor
    net = adc_input(b, rails, "rail_12v")
    b.r(rm.top_ohm, rails.p12v, net, "+12 V rail monitor")
    b.r(rm.bottom_ohm, net, rails.gnd, "+12 V rail monitor")


def temperature(b: Builder, rails: Rails, board: BoardDescription) -> None:
    if board.temperature.sensor != MCP9700A.name:
        raise ValueError(f"the board has an {MCP9700A.name}, not {board.temperature.sensor}")
    role = "board temperature"
    out = b.net("TEMP_SENSOR")
    b.add(MCP9700A, role, {"VDD": rails.p3v3, "VOUT": out, "GND": rails.gnd})
    b.decouple(rails.p3v3, rails.gnd, role)
    b.r(SENSOR_SERIES_OHM, out, adc_input(b, rails, "temperature"), role)
