"""How a station is wired to the supply line, as a validated type shared by every config."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def _permutation(rotation: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """None passes: in a partial update it means "unchanged"; a required field rejects it first."""
    if rotation is not None and sorted(rotation) != [1, 2, 3]:
        raise ValueError("phase_rotation must be a permutation of [1, 2, 3]")
    return rotation


PhaseRotation = Annotated[tuple[int, int, int], AfterValidator(_permutation)]
"""Which line phase feeds the station's L1, L2, L3."""
