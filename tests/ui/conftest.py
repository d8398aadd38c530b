"""The web UI in a real browser: Playwright for Python driving Debian's chromium (never a
downloaded one) against `evse sim` on a free port with a temporary data directory.

The browser is the system's /usr/bin/chromium (or $EVSE_CHROMIUM); scripts/dev.sh installs it
from scripts/apt-packages.txt and builds the UI into appliance/supervisor/web/ first.
Screenshots go to artifacts/ui/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")

ROOT = Path(__file__).resolve().parents[2]
WEB_BUILD = ROOT / "appliance" / "supervisor" / "web" / "index.html"
ARTIFACTS = ROOT / "artifacts" / "ui"
SERVER_START_S = 60.0
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
    "--disable-extensions", "--mute-audio",
]


def _chromium() -> str | None:
    for candidate in (os.environ.get("EVSE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(port: int, data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "appliance", "sim", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir)]


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"evse sim exited with {process.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/auth/me", timeout=2) as answer:
                if answer.status == 200:
                    json.load(answer)
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"evse sim did not serve {base} within {SERVER_START_S:g} s:\n"
                       f"{log.read_text(errors='replace')[-4000:]}")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to `evse sim` and everything it started, SIGKILL to what is left after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        pytest.skip("Debian's chromium is not installed (scripts/dev.sh test installs it)")
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def playwright() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright, chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def appliance(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`evse sim` on a free port; the browser is up before it starts, so no second of the demo is lost."""
    if not WEB_BUILD.exists():
        pytest.fail("the web UI is not built: run `npm ci && npm run build` in web/ (scripts/dev.sh test does it)")
    data_dir = tmp_path_factory.mktemp("evse-data")
    log = data_dir / "sim.log"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EVSE_DATA_DIR", None)
    with log.open("wb") as out:
        # its own process group: the pilot process it starts goes down with it
        process = subprocess.Popen(server_command(port, data_dir), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
    try:
        _wait_until_serving(base, process, log)
        yield base
    finally:
        _stop_group(process)
        with contextlib.suppress(OSError):
            shutil.copy(log, ARTIFACTS / "sim.log")
