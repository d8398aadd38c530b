"""FirmwareManagement: UpdateFirmware fetches a bundle over HTTP(S) and hands it to the same
signed-bundle path as an upload (signature and downgrade rules stay the updater's);
GetDiagnostics uploads the pilot's and the supervisor's logs as one text file (HTTP PUT)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ocpp.v16 import call

from appliance.supervisor.app_context import AppContext
from appliance.system.update import StagedUpdate, UpdateManager, UpdateRefused

log = logging.getLogger(__name__)
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 60.0
LOG_LINES = 2000
INSTALL_WAIT_S = 24 * 3600.0


def _http(url: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("only http and https locations")
    return url


def _download(url: str, limit: int, into: Any) -> int:
    """Blocking: the bundle at `url` into a file, at most `limit` bytes."""
    with urllib.request.urlopen(_http(url), timeout=DOWNLOAD_TIMEOUT_S) as answer:
        size = 0
        while chunk := answer.read(1 << 16):
            size += len(chunk)
            if size > limit:
                raise ValueError(f"the bundle is larger than {limit} bytes")
            into.write(chunk)
    into.seek(0)
    return size


def _upload(url: str, name: str, text: str) -> None:
    """Blocking: the diagnostics file to `url` (its name appended where the URL ends in /)."""
    target = _http(url) + (name if url.endswith("/") else "")
    request = urllib.request.Request(target, data=text.encode(), method="PUT",
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S):
        pass


class Firmware:
    def __init__(self, ctx: AppContext, send: Callable[[Any], None]) -> None:
        self.ctx = ctx
        self.send = send
        self.status = "Idle"
        self.diagnostics_status = "Idle"
        self.install_poll_s = 5.0
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _report(self, status: str) -> None:
        self.status = status
        self.send(call.FirmwareStatusNotification(status))

    def update(self, location: str, retrieve_date: str) -> None:
        self._spawn(self._update(location, retrieve_date))

    async def _update(self, location: str, retrieve_date: str) -> None:
        with contextlib.suppress(ValueError):
            wait = datetime.fromisoformat(retrieve_date.replace("Z", "+00:00")).timestamp() - time.time()
            await asyncio.sleep(max(0.0, wait))
        updater = self.ctx.updater
        limit = updater.max_bundle_bytes if updater is not None else MAX_BUNDLE_BYTES
        self._report("Downloading")
        with tempfile.TemporaryFile(dir=self.ctx.data_dir) as bundle:
            try:
                size = await asyncio.to_thread(_download, location, limit, bundle)
            except (OSError, ValueError) as exc:
                log.warning("firmware download from %s failed: %s", location, exc)
                self._report("DownloadFailed")
                return
            self._report("Downloaded")
            self._report("Installing")
            try:
                if updater is None:
                    raise RuntimeError("this build cannot update itself")
                staged = await asyncio.to_thread(updater.stage, bundle, size)
                await self._request_when_idle(updater, staged)
            except Exception as exc:  # noqa: BLE001 - the updater's refusals: bad signature, not newer, busy
                log.warning("firmware from %s not installed: %s", location, exc)
                self._report("InstallationFailed")
                return
        self._report("Installed")

    async def _request_when_idle(self, updater: UpdateManager, staged: StagedUpdate) -> None:
        """A verified bundle waits for the cars: the install restarts the pilot, so it is asked
        for only once no station charges (OCPP: after the transactions), for at most a day."""
        deadline = time.monotonic() + INSTALL_WAIT_S
        told = False
        while True:
            try:
                updater.request(staged, self.ctx.core.snapshot())
                return
            except UpdateRefused as refused:
                if time.monotonic() >= deadline:
                    raise
                if not told:
                    log.info("firmware %s waits: %s", staged.version, refused.decision.warning)
                    told = True
            await asyncio.sleep(self.install_poll_s)

    def diagnostics(self, location: str) -> str | None:
        """Starts the upload; the file's name, or None when there is nothing to send there."""
        try:
            _http(location)
        except ValueError:
            return None
        name = f"evse-diagnostics-{int(time.time())}.txt"
        self._spawn(self._diagnostics(location, name))
        return name

    async def _diagnostics(self, location: str, name: str) -> None:
        self.diagnostics_status = "Uploading"
        self.send(call.DiagnosticsStatusNotification("Uploading"))
        try:
            await asyncio.to_thread(_upload, location, name, self._log_text())
            self.diagnostics_status = "Uploaded"
        except (OSError, ValueError) as exc:
            log.warning("diagnostics upload to %s failed: %s", location, exc)
            self.diagnostics_status = "UploadFailed"
        self.send(call.DiagnosticsStatusNotification(self.diagnostics_status))

    def _log_text(self) -> str:
        storage = self.ctx.storage
        pilot = [f"{e.boot}/{e.seq} {e.t:.3f} {e.level} station={e.station} {e.message}"
                 for e in reversed(storage.pilot_logs.list(limit=LOG_LINES).items)]
        events = [f"{datetime.fromtimestamp(e.t, UTC).isoformat()} {e.kind} station={e.station} {e.message}"
                  for e in reversed(storage.events.list(limit=LOG_LINES).items)]
        return "\n".join(["# pilot log", *pilot, "", "# supervisor events", *events]) + "\n"
