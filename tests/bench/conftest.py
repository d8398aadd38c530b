"""Benchmarks print JSON lines (to the terminal and to artifacts/bench.jsonl); they never fail on time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

OUT = Path(__file__).resolve().parents[2] / "artifacts" / "bench.jsonl"


@pytest.fixture
def emit():
    OUT.parent.mkdir(exist_ok=True)

    def _emit(bench: str, **figures: Any) -> None:
        line = json.dumps({"bench": bench, **figures})
        sys.__stdout__.write(line + "\n")
        sys.__stdout__.flush()
        with OUT.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    return _emit


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
