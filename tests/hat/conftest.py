"""Fixtures for the HAT design tests; hat/ is not an installed package, so it is put on sys.path.

The terminal summary reports the BOM total, its largest lines, and the largest relative
error found between ngspice and the board description's scaling.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hat.build import Design, design, simulate  # noqa: E402
from hat.outputs.bom import total  # noqa: E402
from hat.sim import ngspice  # noqa: E402

_REPORT = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config) -> dict:
    """Figures for the terminal summary; tests add to it."""
    return pytestconfig.stash.setdefault(_REPORT, {"errors": []})


@pytest.fixture(scope="session")
def hat_design(report: dict) -> Design:
    d = design()
    report["bom"] = d.bom
    return d


@pytest.fixture(scope="session")
def sim(hat_design: Design,
        tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """All standard ngspice cases, run once per session (about 20 s on two cores)."""
    if not ngspice.available():
        pytest.fail("ngspice is not installed (Debian package ngspice, scripts/apt-packages.txt)")
    return simulate(hat_design, tmp_path_factory.mktemp("spice"))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    data = config.stash.get(_REPORT, None)
    if not data or "bom" not in data:
        return
    lines = data["bom"]
    tr = terminalreporter
    tr.section("EVSE HAT")
    tr.write_line(f"BOM total: ${total(lines):.2f} for {sum(x.quantity for x in lines)} parts "
                  f"({len(lines)} lines); largest:")
    for line in lines[:6]:
        tr.write_line(f"  {line.quantity} x {line.mpn:<22} ${line.extended_cost:6.2f}  "
                      f"{line.description}")
    if data["errors"]:
        worst = max(data["errors"], key=lambda e: e[0])
        tr.write_line(f"ngspice vs board-description scaling: {len(data['errors'])} readings, "
                      f"max relative error {worst[0] * 100:.2f} % ({worst[1]})")
