"""The supervisor's decisions, free of I/O and clocks: load sharing, charge modes, price plans.

Each second the caller asks every station's `ModeLogic` whether it may charge, feeds the
answers to the `Allocator` as `StationDemand`s, and sends the targets to the pilot through the
`CommandSequencer` (`appliance.supervisor.sequencer`), decreases first.
"""

from appliance.supervisor.allocation.allocator import (
    Allocation,
    Allocator,
    SharingSettings,
    Site,
    StationDemand,
    phases_in_use,
    share_surplus,
)
from appliance.supervisor.allocation.modes import (
    LowCost,
    Mode,
    ModeDecision,
    ModeLogic,
    SolarTiming,
    hhmm,
    solar_surplus_a,
)
from appliance.supervisor.allocation.prices import ChargePlan, PriceSlot, PriceTable
from appliance.wiring import line_phases, per_line_phase

__all__ = [
    "Allocation", "Allocator", "ChargePlan", "LowCost", "Mode", "ModeDecision", "ModeLogic", "PriceSlot",
    "PriceTable", "SharingSettings", "Site", "SolarTiming", "StationDemand", "hhmm", "line_phases",
    "per_line_phase", "phases_in_use", "share_surplus", "solar_surplus_a",
]
