"""The parts the HAT is built from: pins, footprint, orderable part number, cost, SPICE model.

Defined here in code (no KiCad library needed). Pin numbers follow the package; parts whose
pin numbering has not been checked against the datasheet carry `pinout_checked=False` and
are listed as open items in DESIGN.md and in the BOM.

`spice` is a line template for the simulator: `{ref}` is the reference designator, `{value}`
the SPICE value and `{PIN}` the node a pin is connected to. Parts without a template are
digital or off-board and are left out of the analog simulation.

Unit costs are indicative 100-piece distributor prices in USD; refresh them with a quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Datasheet figures the design calculations and the SPICE models share.
MCP1541_OUTPUT_V = 4.096
MCP9700A_OFFSET_V = 0.500          # output at 0 C
MCP9700A_SLOPE_V_PER_C = 0.0100
TPS7A49_FEEDBACK_V = 1.194         # to verify against the datasheet (see DESIGN.md)
TPS7A30_FEEDBACK_V = -1.18         # to verify against the datasheet (see DESIGN.md)
HCT123_K = 0.45                    # pulse width = K * Rext * Cext for Cext > 10 nF


class Kind(StrEnum):
    """Electrical type of a pin, as the ERC understands it."""

    IN = "in"
    OUT = "out"
    TRI = "tri"
    BIDIR = "bidir"
    PASSIVE = "passive"
    PWR_IN = "pwr_in"
    PWR_OUT = "pwr_out"
    NC = "nc"


@dataclass(frozen=True)
class PinDef:
    num: str
    name: str
    kind: Kind


@dataclass(frozen=True)
class PartSpec:
    name: str
    prefix: str
    pins: tuple[PinDef, ...]
    footprint: str
    mpn: str
    manufacturer: str
    unit_cost: float
    description: str
    spice: str | None = None
    pinout_checked: bool = True
    in_bom: bool = True


def pins(*spec: str) -> tuple[PinDef, ...]:
    """Pins from compact 'num:NAME:kind' strings, e.g. pins('1:OUTA:out', '2:INA_N:in')."""
    out = []
    for item in spec:
        num, name, kind = item.split(":")
        out.append(PinDef(num, name, Kind(kind)))
    return tuple(out)


def _opamp_units(model: str, units: str) -> str:
    return "\n".join(
        f"X{{ref}}{u} {{IN{u}_P}} {{IN{u}_N}} {{VPOS}} {{VNEG}} {{OUT{u}}} {model}" for u in units
    )


# -- analog ----------------------------------------------------------------------------
_QUAD_OPAMP_PINS = pins(
    "1:OUTA:out", "2:INA_N:in", "3:INA_P:in", "4:VPOS:pwr_in", "5:INB_P:in", "6:INB_N:in",
    "7:OUTB:out", "8:OUTC:out", "9:INC_N:in", "10:INC_P:in", "11:VNEG:pwr_in", "12:IND_P:in",
    "13:IND_N:in", "14:OUTD:out",
)
OPA4197 = PartSpec(
    "OPA4197", "U", _QUAD_OPAMP_PINS,
    "Package_SO:SOIC-14_3.9x8.7mm_P1.27mm", "OPA4197IDR", "Texas Instruments", 4.20,
    "Quad 36 V rail-to-rail I/O op-amp, 10 MHz",
    spice=_opamp_units("OPA197", "ABCD"),
)
OPA2197 = PartSpec(
    "OPA2197", "U",
    pins("1:OUTA:out", "2:INA_N:in", "3:INA_P:in", "4:VNEG:pwr_in", "5:INB_P:in", "6:INB_N:in",
         "7:OUTB:out", "8:VPOS:pwr_in"),
    "Package_SO:SOIC-8_3.9x4.9mm_P1.27mm", "OPA2197IDR", "Texas Instruments", 2.60,
    "Dual 36 V rail-to-rail I/O op-amp, 10 MHz",
    spice=_opamp_units("OPA197", "AB"),
)
MCP6001 = PartSpec(
    "MCP6001", "U",
    pins("1:OUTA:out", "2:VNEG:pwr_in", "3:INA_P:in", "4:INA_N:in", "5:VPOS:pwr_in"),
    "Package_TO_SOT_SMD:SOT-23-5", "MCP6001T-I/OT", "Microchip", 0.25,
    "Rail-to-rail op-amp, 1 MHz (reference buffer)",
    spice=_opamp_units("MCP6001", "A"),
)
MCP6004 = PartSpec(
    "MCP6004", "U", _QUAD_OPAMP_PINS,
    "Package_SO:SOIC-14_3.9x8.7mm_P1.27mm", "MCP6004T-I/SL", "Microchip", 0.45,
    "Quad rail-to-rail op-amp, 1 MHz (ADC input buffers)",
    spice=_opamp_units("MCP6001", "ABCD"),
)
MCP1541 = PartSpec(
    "MCP1541", "U",
    pins("1:VIN:pwr_in", "2:VOUT:out", "3:VSS:pwr_in"),
    "Package_TO_SOT_SMD:SOT-23", "MCP1541T-I/TT", "Microchip", 0.60,
    "4.096 V voltage reference",
    spice="X{ref} {VIN} {VOUT} {VSS} REF4V096",
)
MCP9700A = PartSpec(
    "MCP9700A", "U",
    pins("1:VDD:pwr_in", "2:VOUT:out", "3:GND:pwr_in"),
    "Package_TO_SOT_SMD:SOT-23", "MCP9700AT-E/TT", "Microchip", 0.25,
    "Linear temperature sensor, 500 mV at 0 C, 10 mV/C",
    spice="X{ref} {VDD} {VOUT} {GND} MCP9700A",
)
MCP3208 = PartSpec(
    "MCP3208", "U",
    pins(*(f"{n + 1}:CH{n}:in" for n in range(8)), "9:DGND:pwr_in", "10:CS:in", "11:DIN:in",
         "12:DOUT:tri", "13:CLK:in", "14:AGND:pwr_in", "15:VREF:in", "16:VDD:pwr_in"),
    "Package_SO:SOIC-16_3.9x9.9mm_P1.27mm", "MCP3208-CI/SL", "Microchip", 3.40,
    "12-bit 8-channel SAR ADC, SPI",
)
ATM90E32AS = PartSpec(
    "ATM90E32AS", "U",
    pins("1:DVDD:pwr_in", "2:AVDD:pwr_in", "3:DGND:pwr_in", "4:AGND:pwr_in", "5:VREF:passive",
         "6:OSCI:in", "7:OSCO:out", "8:RESET:in", "9:CS:in", "10:SCLK:in", "11:SDI:in",
         "12:SDO:tri", "13:PM0:in", "14:PM1:in", "15:IRQ0:out", "16:IRQ1:out",
         "17:WARNOUT:out", "18:ZX0:out", "19:ZX1:out", "20:ZX2:out", "21:CF1:out",
         "22:CF2:out", "23:CF3:out", "24:CF4:out", "25:UAP:in", "26:UAN:in", "27:UBP:in",
         "28:UBN:in", "29:UCP:in", "30:UCN:in", "31:IAP:in", "32:IAN:in", "33:IBP:in",
         "34:IBN:in", "35:ICP:in", "36:ICN:in", "37:INP:in", "38:INN:in"),
    "Package_QFP:LQFP-48_7x7mm_P0.5mm", "ATM90E32AS-AU-Y", "Microchip", 3.90,
    "Poly-phase energy metering IC, SPI",
    pinout_checked=False,
)

# -- power -----------------------------------------------------------------------------
TMR3_0523 = PartSpec(
    "TMR_3-0523", "PS",
    pins("1:VIN:pwr_in", "2:GND_IN:pwr_in", "3:VOUT_P:pwr_out", "4:COM:passive",
         "5:VOUT_N:pwr_out"),
    "Converter_DCDC:Converter_DCDC_TRACO_TMR-xxxx_THT", "TMR 3-0523", "TRACO Power", 16.00,
    "DC-DC 5 V to +/-15 V, 100 mA, regulated",
    spice="X{ref} {VIN} {GND_IN} {VOUT_P} {COM} {VOUT_N} DCDC_PM15",
    pinout_checked=False,
)
NXJ1S0505MC = PartSpec(
    "NXJ1S0505MC", "PS",
    pins("1:VIN:pwr_in", "2:GND_IN:pwr_in", "3:VOUT:pwr_out", "4:GND_OUT:passive"),
    "Converter_DCDC:Converter_DCDC_Murata_NXJ1SxxxxMC_SMD", "NXJ1S0505MC-R7", "Murata", 9.00,
    "Isolated DC-DC 5 V to 5 V, 1 W, reinforced insulation (meter domain)",
    spice="X{ref} {VIN} {GND_IN} {VOUT} {GND_OUT} DCDC_ISO5",
    pinout_checked=False,
)
def _adjustable_ldo(name: str, cost: float, description: str, model: str) -> PartSpec:
    """TI's MSOP-8 PowerPAD adjustable LDOs share pinout and footprint."""
    return PartSpec(
        name, "U",
        pins("1:OUT:pwr_out", "2:FB:in", "3:NC1:nc", "4:GND:pwr_in", "5:EN:in", "6:NR:passive",
             "7:NC2:nc", "8:IN:pwr_in", "9:PAD:pwr_in"),
        "Package_SO:MSOP-8-1EP_3x3mm_P0.65mm_EP1.68x1.88mm", f"{name}DGNR", "Texas Instruments",
        cost, description,
        spice=f"X{{ref}} {{IN}} {{OUT}} {{FB}} {{GND}} {model}",
        pinout_checked=False,
    )


TPS7A4901 = _adjustable_ldo("TPS7A4901", 2.60,
                            "Positive LDO, adjustable, 150 mA, 1.194 V feedback reference",
                            "LDO_POS")
TPS7A3001 = _adjustable_ldo("TPS7A3001", 2.90,
                            "Negative LDO, adjustable, 200 mA, -1.18 V feedback reference",
                            "LDO_NEG")
MCP1700_33 = PartSpec(
    "MCP1700-3.3", "U",
    pins("1:GND:pwr_in", "2:VOUT:pwr_out", "3:VIN:pwr_in"),
    "Package_TO_SOT_SMD:SOT-23", "MCP1700T-3302E/TT", "Microchip", 0.35,
    "LDO 3.3 V, 250 mA (meter domain)",
    spice="X{ref} {VIN} {VOUT} {GND} LDO_3V3",
)

# -- logic -----------------------------------------------------------------------------
SN74AHCT125 = PartSpec(
    "74AHCT125", "U",
    pins("1:OE1:in", "2:A1:in", "3:Y1:tri", "4:OE2:in", "5:A2:in", "6:Y2:tri", "7:GND:pwr_in",
         "8:Y3:tri", "9:A3:in", "10:OE3:in", "11:Y4:tri", "12:A4:in", "13:OE4:in",
         "14:VCC:pwr_in"),
    "Package_SO:SOIC-14_3.9x8.7mm_P1.27mm", "SN74AHCT125DR", "Texas Instruments", 0.30,
    "Quad buffer, TTL-level inputs: 3.3 V SPI to the 5 V ADC",
)
SN74LVC1G125 = PartSpec(
    "74LVC1G125", "U",
    pins("1:OE:in", "2:A:in", "3:GND:pwr_in", "4:Y:tri", "5:VCC:pwr_in"),
    "Package_TO_SOT_SMD:SOT-23-5", "SN74LVC1G125DBVR", "Texas Instruments", 0.12,
    "Single 3-state buffer, 5 V tolerant: MISO gated by the device's chip select",
)
HCT123 = PartSpec(
    "74HCT123", "U",
    pins("1:A1N:in", "2:B1:in", "3:CLR1N:in", "4:Q1N:out", "5:Q2:out", "6:CEXT2:passive",
         "7:RCEXT2:passive", "8:GND:pwr_in", "9:A2N:in", "10:B2:in", "11:CLR2N:in",
         "12:Q2N:out", "13:Q1:out", "14:CEXT1:passive", "15:RCEXT1:passive", "16:VCC:pwr_in"),
    "Package_SO:SOIC-16_3.9x9.9mm_P1.27mm", "74HCT123D,653", "Nexperia", 0.35,
    "Dual retriggerable monostable (hardware watchdog)",
)
HCT11 = PartSpec(
    "74HCT11", "U",
    pins("1:A1:in", "2:B1:in", "3:A2:in", "4:B2:in", "5:C2:in", "6:Y2:out", "7:GND:pwr_in",
         "8:Y3:out", "9:A3:in", "10:B3:in", "11:C3:in", "12:Y1:out", "13:C1:in",
         "14:VCC:pwr_in"),
    "Package_SO:SOIC-14_3.9x8.7mm_P1.27mm", "74HCT11D,653", "Nexperia", 0.25,
    "Triple 3-input AND: contactor = request AND watchdog AND RCD OK",
)
HCT02 = PartSpec(
    "74HCT02", "U",
    pins("1:Y1:out", "2:A1:in", "3:B1:in", "4:Y2:out", "5:A2:in", "6:B2:in", "7:GND:pwr_in",
         "8:A3:in", "9:B3:in", "10:Y3:out", "11:A4:in", "12:B4:in", "13:Y4:out",
         "14:VCC:pwr_in"),
    "Package_SO:SOIC-14_3.9x8.7mm_P1.27mm", "74HCT02D,653", "Nexperia", 0.20,
    "Quad NOR: RCD OK = NOT (fault DC OR fault AC)",
)
ISO7741 = PartSpec(
    "ISO7741", "U",
    pins("1:VCC1:pwr_in", "2:GND1A:pwr_in", "3:INA:in", "4:INB:in", "5:INC:in", "6:OUTD:out",
         "7:EN1:in", "8:GND1B:pwr_in", "9:GND2A:pwr_in", "10:EN2:in", "11:IND:in",
         "12:OUTC:out", "13:OUTB:out", "14:OUTA:out", "15:GND2B:pwr_in", "16:VCC2:pwr_in"),
    "Package_SO:SOIC-16W_7.5x10.3mm_P1.27mm", "ISO7741DWR", "Texas Instruments", 3.80,
    "Quad digital isolator 3/1, reinforced: SPI into the mains-referenced meter",
)
CAT24C32 = PartSpec(
    "24C32", "U",
    pins("1:A0:in", "2:A1:in", "3:A2:in", "4:VSS:pwr_in", "5:SDA:bidir", "6:SCL:in",
         "7:WP:in", "8:VCC:pwr_in"),
    "Package_SO:SOIC-8_3.9x4.9mm_P1.27mm", "CAT24C32WI-GT3", "onsemi", 0.20,
    "32 kbit I2C EEPROM (HAT ID)",
)

# -- discretes -------------------------------------------------------------------------
N_MOSFET = PartSpec(
    "2N7002", "Q", pins("1:G:in", "2:S:passive", "3:D:passive"),
    "Package_TO_SOT_SMD:SOT-23", "2N7002,215", "Nexperia", 0.05, "N-MOSFET 60 V (relay driver)",
)
SIGNAL_DIODE = PartSpec(
    "1N4148W", "D", pins("1:K:passive", "2:A:passive"),
    "Diode_SMD:D_SOD-123", "1N4148W-7-F", "Diodes Inc.", 0.03, "Switching diode",
    spice="D{ref} {A} {K} DSIG",
)
LOW_LEAKAGE_DIODE = PartSpec(
    "BAS416", "D", pins("1:K:passive", "2:A:passive"),
    "Diode_SMD:D_SOD-323", "BAS416,115", "Nexperia", 0.10,
    "Low-leakage diode (peak detectors: leakage would charge the hold capacitor)",
    spice="D{ref} {A} {K} DLOWLEAK",
)
TVS_15V = PartSpec(
    "SMAJ15CA", "D", pins("1:A1:passive", "2:A2:passive"),
    "Diode_SMD:D_SMA", "SMAJ15CA", "Littelfuse", 0.20, "Bidirectional TVS 15 V stand-off (CP)",
    spice="X{ref} {A1} {A2} TVS15",
)
LED_GREEN = PartSpec(
    "LED_green", "D", pins("1:K:passive", "2:A:passive"),
    "LED_SMD:LED_0603_1608Metric", "150060GS75000", "Wurth Elektronik", 0.06, "LED green 0603",
    spice="D{ref} {A} {K} DLED",
)
CRYSTAL_16M384 = PartSpec(
    "16.384MHz", "Y", pins("1:1:passive", "2:2:passive"),
    "Crystal:Crystal_SMD_5032-2Pin_5.0x3.2mm", "ABM3-16.384MHZ-D2Y-T", "Abracon", 0.45,
    "Crystal 16.384 MHz (meter clock)",
)
RELAY = PartSpec(
    "G5Q-1A4_DC5", "K",
    pins("1:COIL1:passive", "2:COIL2:passive", "3:COM:passive", "4:NO:passive"),
    "Relay_THT:Relay_SPST_Omron-G5Q-1A", "G5Q-1A4 DC5", "Omron", 1.80,
    "Relay SPST-NO 10 A 250 VAC, 5 V coil: switches the contactor coil",
    pinout_checked=False,
)

# -- connectors and test points --------------------------------------------------------
PI_HEADER_NAMES: dict[int, str] = {
    1: "3V3_1", 2: "5V_2", 3: "GPIO2", 4: "5V_4", 5: "GPIO3", 6: "GND_6", 7: "GPIO4",
    8: "GPIO14", 9: "GND_9", 10: "GPIO15", 11: "GPIO17", 12: "GPIO18", 13: "GPIO27",
    14: "GND_14", 15: "GPIO22", 16: "GPIO23", 17: "3V3_17", 18: "GPIO24", 19: "GPIO10",
    20: "GND_20", 21: "GPIO9", 22: "GPIO25", 23: "GPIO11", 24: "GPIO8", 25: "GND_25",
    26: "GPIO7", 27: "GPIO0", 28: "GPIO1", 29: "GPIO5", 30: "GND_30", 31: "GPIO6",
    32: "GPIO12", 33: "GPIO13", 34: "GND_34", 35: "GPIO19", 36: "GPIO16", 37: "GPIO26",
    38: "GPIO20", 39: "GND_39", 40: "GPIO21",
}
PI_HEADER = PartSpec(
    "RPi_GPIO_40", "J",
    tuple(
        PinDef(str(n), name, Kind.BIDIR if name.startswith("GPIO") else Kind.PASSIVE)
        for n, name in PI_HEADER_NAMES.items()
    ),
    "Connector_PinSocket_2.54mm:PinSocket_2x20_P2.54mm_Vertical", "SSQ-120-03-G-D", "Samtec",
    3.90, "Raspberry Pi 40-pin header socket",
    spice="V{ref}5 {5V_2} {GND_6} DC 5.0\nV{ref}3 {3V3_1} {GND_6} DC 3.3",
)
EV_CONNECTOR = PartSpec(
    "EV_CP_PP", "J", pins("1:CP:passive", "2:PP:passive", "3:PE:passive"),
    "TerminalBlock_Phoenix:TerminalBlock_Phoenix_MKDS-1,5-3-5.08_1x03_P5.08mm_Horizontal",
    "1715734", "Phoenix Contact", 0.80, "Station cable: control pilot, proximity pilot, PE",
)
RCD_CONNECTOR = PartSpec(
    "RDC-DD", "J",
    pins("1:VCC:passive", "2:GND:passive", "3:FAULT_DC:passive", "4:FAULT_AC:passive",
         "5:TEST:passive"),
    "Connector_JST:JST_XH_B5B-XH-A_1x05_P2.50mm_Vertical", "B5B-XH-A", "JST", 0.12,
    "RDC-DD module: 5 V supply, open-collector fault outputs (on = OK), test input",
)
CONTACTOR_CONNECTOR = PartSpec(
    "CONTACTOR", "J", pins("1:COM:passive", "2:NO:passive"),
    "TerminalBlock_Phoenix:TerminalBlock_Phoenix_MKDS-1,5-2-5.08_1x02_P5.08mm_Horizontal",
    "1715721", "Phoenix Contact", 0.60, "Contactor coil circuit (relay contact)",
)
CONTACTOR_AUX_CONNECTOR = PartSpec(
    "CONTACTOR_AUX", "J", pins("1:AUX:passive", "2:GND:passive"),
    "TerminalBlock_Phoenix:TerminalBlock_Phoenix_PT-1,5-2-3.5-H_1x02_P3.50mm_Horizontal",
    "1984617", "Phoenix Contact", 0.70,
    "Contactor auxiliary (mirror) contact, dry, to GND",
)
LINE_CONNECTOR = PartSpec(
    "LINE_CAR_SIDE", "J", pins("1:L1:passive", "2:L2:passive", "3:L3:passive", "4:N:passive"),
    "TerminalBlock_Phoenix:TerminalBlock_Phoenix_MKDS-3-4-7.62_1x04_P7.62mm_Horizontal",
    "1711042", "Phoenix Contact", 1.60, "Mains voltage sense, car side of the contactor",
)
CT_CONNECTOR = PartSpec(
    "CT_3PH", "J",
    pins("1:CT1_P:passive", "2:CT1_N:passive", "3:CT2_P:passive", "4:CT2_N:passive",
         "5:CT3_P:passive", "6:CT3_N:passive"),
    "TerminalBlock_Phoenix:TerminalBlock_Phoenix_PT-1,5-6-3.5-H_1x06_P3.50mm_Horizontal",
    "1984675", "Phoenix Contact", 1.60, "Three current transformers 100 A : 50 mA",
)
TEST_POINT = PartSpec(
    "TestPoint", "TP", pins("1:1:passive"),
    "TestPoint:TestPoint_Pad_D1.0mm", "", "", 0.0, "Test pad", in_bom=False,
)
