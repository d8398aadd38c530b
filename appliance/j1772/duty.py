"""Pilot duty cycle <-> offered current (IEC 61851-1 Annex A, SAE J1772)."""

from __future__ import annotations

MIN_CURRENT_A = 6.0
MAX_CURRENT_A = 80.0
_BREAK_A = 51.0  # 85 % duty


def duty_from_current(amps: float) -> float:
    """Duty cycle in percent that offers `amps` (6..80 A)."""
    if not MIN_CURRENT_A <= amps <= MAX_CURRENT_A:
        raise ValueError(f"{amps} A cannot be offered: the pilot encodes {MIN_CURRENT_A:g}..{MAX_CURRENT_A:g} A")
    if amps <= _BREAK_A:
        return amps / 0.6
    return amps / 2.5 + 64.0


def current_from_duty(duty_pct: float) -> float:
    """Current in A a car may draw at `duty_pct`; 0 where the duty offers no AC charging."""
    if duty_pct < 8.0 or duty_pct > 97.0:
        return 0.0
    if duty_pct < 10.0:
        return MIN_CURRENT_A
    if duty_pct <= 85.0:
        return duty_pct * 0.6
    return min((duty_pct - 64.0) * 2.5, MAX_CURRENT_A)
