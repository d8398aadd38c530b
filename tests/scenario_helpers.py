"""Scenario helpers: build a scenario from plain data and run it on simulated time."""

from __future__ import annotations

from typing import Any

from appliance.scenario.schema import Scenario

CAR = {"max_current_a": 32, "phases": 3, "battery_kwh": 60, "soc": 0.2, "response_s": 2.0, "cable_a": 32}


def scenario(events: list[dict[str, Any]], site: dict[str, Any] | None = None,
             stations: list[dict[str, Any]] | None = None) -> Scenario:
    return Scenario.model_validate({"site": site or {}, "station": stations or [], "event": events})


def charging(station: int = 1, at: float = 1.0, **car: Any) -> list[dict[str, Any]]:
    """Plug a car at `at` and have it ask for power a second later."""
    return [
        {"at": at, "station": station, "do": "plug", "car": {**CAR, **car}},
        {"at": at + 1.0, "station": station, "do": "request"},
    ]


def closes(report: Any, station: int = 1, after: float = -1.0) -> list[float]:
    """Times the station's contacts closed, after `after`."""
    return [e["t"] for e in report.of("contactor", station, closed=True) if e["t"] > after]


def opens(report: Any, station: int = 1, after: float = -1.0) -> list[float]:
    """Times the station's contacts opened, after `after`."""
    return [e["t"] for e in report.of("contactor", station, closed=False) if e["t"] > after]


def active(runner: Any, station: int = 1) -> set[str]:
    """The station's active fault codes in the pilot engine."""
    return {c.value for c in runner.engine.stations[station].faults}
