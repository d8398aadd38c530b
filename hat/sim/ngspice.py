"""Run ngspice in batch mode and read back the `.meas` results."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_MEAS = re.compile(r"^(\w+)\s*=\s*([-+]?\d[\d.]*(?:e[-+]?\d+)?)", re.IGNORECASE | re.MULTILINE)
TIMEOUT_S = 300


class SimulationError(RuntimeError):
    pass


def available() -> bool:
    return shutil.which("ngspice") is not None


def version() -> str:
    out = subprocess.run(["ngspice", "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"ngspice-\S+", out.stdout)
    return found[0] if found else "unknown"


def run(deck: str, path: Path) -> dict[str, float]:
    """Simulate `deck` (written to `path` for inspection) and return every measurement."""
    path.write_text(deck, encoding="utf-8")
    proc = subprocess.run(["ngspice", "-b", path.name], cwd=path.parent, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    path.with_suffix(".log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    # Measurement names carry an m_ prefix so they cannot shadow node names in ngspice.
    wanted = re.findall(r"^meas tran (m_\w+)", deck, re.MULTILINE)
    found = {name.lower(): float(value) for name, value in _MEAS.findall(proc.stdout)}
    missing = [w for w in wanted if w.lower() not in found]
    # ngspice -b exits 1 even after a clean run with a .control section: judge by the output.
    aborted = re.search(r"simulation\(s\) aborted|Timestep too small", proc.stdout + proc.stderr)
    if aborted or missing:
        raise SimulationError(f"{path.name}: {aborted[0] if aborted else 'incomplete'}, missing "
                              f"{missing[:5]}; see {path.with_suffix('.log')}")
    return {w.removeprefix("m_"): found[w.lower()] for w in wanted}


def run_all(decks: dict[str, str], workdir: Path) -> dict[str, dict[str, float]]:
    """All decks in parallel, one ngspice per core."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {name: pool.submit(run, text, workdir / f"{name}.cir")
                   for name, text in decks.items()}
        return {name: f.result() for name, f in futures.items()}
