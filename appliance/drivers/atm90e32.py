"""ATM90E32AS three-phase metering IC: calibration at start, all readings in one burst.

Every register access is one 32-clock CS frame: a 16-bit command word (bit 15 set = read,
bits 9..0 = address) and 16 data bits. `read()` fetches all the registers it needs in one
SPI_IOC_MESSAGE and checks that the answers could come from a working, configured chip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from appliance.board.description import Meter as MeterCalibration
from appliance.drivers.interfaces import BusError, MeterReading
from appliance.drivers.spi import SpiPort

# -- register map (datasheet names) ---------------------------------------------------
METER_EN = 0x00
AP_ENERGY = (0x81, 0x82, 0x83)  # APenergyA..C, read-to-clear
PL_CONST_H = 0x31
PL_CONST_L = 0x32
MMODE0 = 0x33
MMODE1 = 0x34
UGAIN = (0x61, 0x65, 0x69)
IGAIN = (0x62, 0x66, 0x6A)
SOFT_RESET = 0x70
CFG_REG_ACC_EN = 0x7F
PMEAN = (0xB1, 0xB2, 0xB3)  # high words, signed
PMEAN_LSB = (0xC1, 0xC2, 0xC3)  # low words
PF_MEAN = (0xBD, 0xBE, 0xBF)
URMS = (0xD9, 0xDA, 0xDB)
IRMS = (0xDD, 0xDE, 0xDF)
URMS_LSB = (0xE9, 0xEA, 0xEB)  # bits 15..8 extend Urms by 8 bits
IRMS_LSB = (0xED, 0xEE, 0xEF)
FREQ = 0xF8
TEMP = 0xFC

SOFT_RESET_KEY = 0x789A
CFG_UNLOCK = 0x55AA
CFG_LOCK = 0x0000
METER_ENABLED = 0x0001

# -- encodings ------------------------------------------------------------------------
URMS_V = 0.01
IRMS_A = 0.001
PMEAN_W = 0.00032  # of the 32-bit value
PF_SCALE = 1000
FREQ_HZ = 0.01
EXT = 256  # the LSB registers add 8 bits below the main register

_READ_MASK = 0x8000
_ADDRESS_MASK = 0x03FF

# Everything `read()` needs, in one burst: hi/lo pairs next to each other.
_READINGS = (
    METER_EN,
    *[
        a
        for phase in zip(URMS, URMS_LSB, IRMS, IRMS_LSB, PMEAN, PMEAN_LSB, PF_MEAN, strict=True)
        for a in phase
    ],
    FREQ,
    TEMP,
    *AP_ENERGY,
)
_MIN_FREQ_HZ, _MAX_FREQ_HZ = 40.0, 70.0
_VOLTAGE_PRESENT_V = 50.0


def read_frame(address: int) -> bytes:
    return (_READ_MASK | address).to_bytes(2, "big") + b"\x00\x00"


def write_frame(address: int, value: int) -> bytes:
    return (address & _ADDRESS_MASK).to_bytes(2, "big") + value.to_bytes(2, "big")


def signed16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def signed32(high: int, low: int) -> int:
    value = (high << 16) | low
    return value - (1 << 32) if value & 0x8000_0000 else value


class Atm90e32:
    def __init__(self, port: SpiPort, calibration: MeterCalibration) -> None:
        self._port = port
        cal = calibration
        self._config = [
            (PL_CONST_H, cal.pl_constant >> 16),
            (PL_CONST_L, cal.pl_constant & 0xFFFF),
            (MMODE0, cal.mmode0),
            (MMODE1, cal.mmode1),
            *[
                (reg, gain)
                for u, i in zip(UGAIN, IGAIN, strict=True)
                for reg, gain in ((u, cal.ugain), (i, cal.igain))
            ],
        ]
        if any(not 0 <= value <= 0xFFFF for _, value in self._config):
            raise ValueError(f"meter calibration does not fit the chip's registers: {self._config}")
        self._energy_lsb_wh = cal.energy_lsb_wh
        self._read_frames = [read_frame(a) for a in _READINGS]
        self.energy_wh = 0.0

    @property
    def name(self) -> str:
        return f"ATM90E32 on {self._port.name}"

    def start(self) -> None:
        """Soft reset, write the calibration between unlock and lock, enable, verify."""
        writes = [
            (SOFT_RESET, SOFT_RESET_KEY),
            (CFG_REG_ACC_EN, CFG_UNLOCK),
            (METER_EN, METER_ENABLED),
            *self._config,
            (CFG_REG_ACC_EN, CFG_LOCK),
        ]
        self._port.transfer_frames([write_frame(a, v) for a, v in writes])
        readback = self._words([read_frame(a) for a, _ in self._config])
        for (address, wanted), got in zip(self._config, readback, strict=True):
            if got != wanted:
                raise BusError(
                    f"{self.name}: register 0x{address:02X} reads 0x{got:04X} after writing 0x{wanted:04X}"
                )

    def read(self) -> MeterReading:
        words = dict(zip(_READINGS, self._words(self._read_frames), strict=True))
        self._check(words)
        self.energy_wh += sum(words[a] for a in AP_ENERGY) * self._energy_lsb_wh
        return MeterReading(
            voltage_v=_phases(lambda p: (words[URMS[p]] * EXT + (words[URMS_LSB[p]] >> 8)) * URMS_V / EXT),
            current_a=_phases(lambda p: (words[IRMS[p]] * EXT + (words[IRMS_LSB[p]] >> 8)) * IRMS_A / EXT),
            power_w=_phases(lambda p: signed32(words[PMEAN[p]], words[PMEAN_LSB[p]]) * PMEAN_W),
            power_factor=_phases(lambda p: signed16(words[PF_MEAN[p]]) / PF_SCALE),
            frequency_hz=words[FREQ] * FREQ_HZ,
            energy_wh=self.energy_wh,
            temperature_c=float(signed16(words[TEMP])),
        )

    def _check(self, words: dict[int, int]) -> None:
        """Refuse answers no configured, running chip gives."""
        enabled = words[METER_EN]
        if all(w == 0xFFFF for w in words.values()):
            raise BusError(f"{self.name}: every register reads 0xFFFF: chip not answering (MISO high)")
        if enabled != METER_ENABLED:
            raise BusError(f"{self.name}: MeterEn reads 0x{enabled:04X}: the chip reset or is not answering")
        if any(words[a] == 0xFFFF for a in URMS):
            raise BusError(f"{self.name}: Urms reads 0xFFFF (655 V): implausible")
        volts = [words[a] * URMS_V for a in URMS]
        hz = words[FREQ] * FREQ_HZ
        if max(volts) > _VOLTAGE_PRESENT_V and not _MIN_FREQ_HZ <= hz <= _MAX_FREQ_HZ:
            raise BusError(
                f"{self.name}: line frequency {hz:.2f} Hz with {max(volts):.0f} V present: implausible"
            )

    def _words(self, frames: Sequence[bytes]) -> list[int]:
        """The data words of read frames, all in one burst."""
        return [(rx[2] << 8) | rx[3] for rx in self._port.transfer_frames(frames)]


def _phases(value: Callable[[int], float]) -> tuple[float, float, float]:
    return (value(0), value(1), value(2))
