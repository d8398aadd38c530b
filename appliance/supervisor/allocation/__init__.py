"""The supervisor's decisions, free of I/O and clocks: load sharing, charge modes, price plans.

Each second the caller asks every station's `ModeLogic` whether it may charge, feeds the
answers to the `Allocator` as `StationDemand`s, and sends the targets to the pilot in the
order `order_changes` gives.
"""

from appliance.supervisor.allocation.allocator import (
    Allocation,
    Allocator,
    Changes,
    SharingSettings,
    Site,
    StationDemand,
    line_phases,
    order_changes,
    per_line_phase,
    phases_in_use,
    pilot_safe,
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

__all__ = [
    "Allocation", "Allocator", "ChargePlan", "Changes", "LowCost", "Mode", "ModeDecision", "ModeLogic", "PriceSlot",
    "PriceTable", "SharingSettings", "Site", "SolarTiming", "StationDemand", "hhmm", "line_phases", "order_changes",
    "per_line_phase", "phases_in_use", "pilot_safe", "share_surplus", "solar_surplus_a",
]
