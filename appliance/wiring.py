"""How a station is wired to the supply line: the validated rotation every config shares, and the
mapping between the station's conductors L1..L3 and the line phases, shared by pilot and supervisor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated

from pydantic import AfterValidator, Field

STATIONS = 2  # stations on one appliance: ids 1..STATIONS


def _permutation(rotation: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """None passes: in a partial update it means "unchanged"; a required field rejects it first."""
    if rotation is not None and sorted(rotation) != [1, 2, 3]:
        raise ValueError("phase_rotation must be a permutation of [1, 2, 3]")
    return rotation


PhaseRotation = Annotated[tuple[int, int, int], AfterValidator(_permutation)]
"""Which line phase feeds the station's L1, L2, L3."""

StationId = Annotated[int, Field(ge=1, le=STATIONS)]
"""A station's id in every config and setting (the API's paths take any id and answer 404)."""


def line_phases(rotation: Sequence[int], car_phases: int | None) -> tuple[int, ...]:
    """The line phases a car loads: the station's L1..Ln through the rotation; unknown ⇒ all."""
    return tuple(rotation[: car_phases or 3])


def per_line_phase(rotation: Sequence[int], station_values: Sequence[float]) -> tuple[float, float, float]:
    """A station's per-conductor values (L1..L3) rearranged by line phase 1..3."""
    out = [0.0, 0.0, 0.0]
    for phase, value in zip(rotation, station_values, strict=False):
        out[phase - 1] += value
    return out[0], out[1], out[2]


def conductors_to_line(rotation: Sequence[int], conductors: Iterable[int]) -> tuple[int, ...]:
    """The line phases feeding the station's conductors (1..3 for L1..L3), in line order."""
    return tuple(sorted({rotation[c - 1] for c in conductors}))


def conductors_up_to(rotation: Sequence[int], phases: Iterable[int]) -> int:
    """How many conductors from L1 up it takes to cover these line phases (3 when none are given),
    so that `line_phases(rotation, n)` holds every one of them."""
    return max((list(rotation).index(p) + 1 for p in phases), default=3)


def triple(values: Iterable[float]) -> tuple[float, float, float]:
    """Per-phase values L1..L3 as the fixed-size tuple they are (ValueError for any other count)."""
    l1, l2, l3 = values
    return l1, l2, l3
