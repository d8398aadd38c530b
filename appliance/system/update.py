"""Over-the-air updates: stage a signed bundle, install it beside the running version, switch
atomically, health-check the new version and roll back by itself when it does not come up.

Layout under `root` ("/" on the appliance):

    opt/evse/versions/<version>/venv    one venv per installed version (current and previous)
    opt/evse/current -> versions/<v>    what the services run (see /usr/lib/evse/evse-python)
    var/lib/evse/update/                the supervisor's staging area (user evse)
        staged/        a verified bundle, unpacked
        request.json   "install staged/": evse-update.path starts the root installer
        status.json    state and progress for the UI
    opt/evse/update-state.json          the installer's own record (root only): what to finish
                                        or roll back after a power cut

Who does what: the supervisor (unprivileged) takes the update lock with `receiving()` before it
spools an upload (a second upload meanwhile is refused at once, and one that would leave the
data partition nearly full is refused before it is read), calls `stage()` with it, then
`request()`, which refuses while a car charges unless forced. Only a newer version goes in: an
older signed bundle (a downgrade to a version with known flaws) or the running one again (a
replay) is refused unless the owner allows a downgrade explicitly. evse-update.service (root) calls `run()`: it
checks the staged files again, installs, switches `current`, restarts the services (the
supervisor too, which is why it cannot do this itself) and waits for the new version to answer.
The pilot keeps cars safe while the supervisor restarts; restarting the pilot opens the
contactors, hence the rule in `can_update`. The data partition is never touched.

Root never trusts what evse can write: the spool is opened without following symbolic links,
staged files are copied only when they are regular files, the status file is display only, and
every version root switches to must be an installed directory under versions/.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from packaging.version import InvalidVersion, Version

from appliance.errors import Refused
from appliance.system.bundle import VERSION_PATTERN, BundleError, Manifest, unpack_bundle, verify_unpacked
from appliance.system.signing import release_keys

MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MIN_FREE_BYTES = 64 * 1024 * 1024  # left on the data partition for the database while an update is received
PROGRESS_EVERY_S = 0.5
# Needs no login and exists only once the API is fully built: its info.version is the running version.
HEALTH_URL = "http://127.0.0.1:8080/openapi.json"
SERVICES = ("evse-pilot.service", "evse-supervisor.service")
# Where an update can be when the installer stops (a power cut): resumed at the next boot.
UNFINISHED = ("switching", "checking")
MAX_STATE_BYTES = 64 * 1024
# Opening what evse may have planted: no symbolic link, and no FIFO that would block root.
_UNTRUSTED = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class UpdateRefused(Refused):
    """A valid update that must not run now (a car is charging); `decision.warning` says why."""

    def __init__(self, decision: UpdateDecision) -> None:
        super().__init__(decision.warning)
        self.decision = decision


class NotNewer(BundleError):
    """A validly signed bundle that is not newer than the running version."""


class UpdateBusy(Refused):
    """Another update is being received or installed."""


class NoSpace(Refused):
    """The upload would leave the data partition (nearly) full."""


def check_newer(version: str, running: str | None, allow_downgrade: bool = False) -> None:
    """NotNewer unless `version` is newer than `running` (PEP 440 order: 0.10 after 0.9, a
    release after its release candidates). An older one passes only with `allow_downgrade`;
    the running version itself never does (installing it again changes nothing)."""
    if running is None:
        return
    if version == running:
        raise NotNewer(f"version {version} is already running")
    try:
        newer = Version(version) > Version(running)
    except InvalidVersion:
        newer = False  # not comparable: only the owner can tell
    if not newer and not allow_downgrade:
        raise NotNewer(f"version {version} is older than the running {running}; to go back to it anyway, "
                       "confirm with allow_downgrade=true")


# ------------------------------------------------------------------------- the charging rule
@dataclass(frozen=True)
class UpdateDecision:
    allowed: bool
    warning: str | None = None
    charging: tuple[int, ...] = ()


def charging_stations(status: Mapping[str, object]) -> tuple[int, ...]:
    """Stations with a car drawing power (state C/D, a closed contactor), from the supervisor's
    snapshot ({"stations": [{"id": 1, "state": "C", "contactor": true}, ...]}) or a mapping by id."""
    stations: Any = status.get("stations") or {}
    if isinstance(stations, Mapping):
        items = [(k, v) for k, v in stations.items()]
    else:
        items = [(s.get("id"), s) for s in stations]
    return tuple(sorted(int(k) for k, s in items
                        if s.get("contactor") or s.get("charging") or s.get("state") in ("C", "D")))


def can_update(status: Mapping[str, object], force: bool = False) -> UpdateDecision:
    """An update restarts the pilot, which opens the contactors: never without a warning."""
    charging = charging_stations(status)
    if not charging:
        return UpdateDecision(True)
    names = " and ".join(f"station {s}" for s in charging)
    warning = (f"{names} {'is' if len(charging) == 1 else 'are'} charging: the update restarts the pilot "
               "process, which stops charging for about half a minute (some cars need to be unplugged "
               "and plugged in again to resume). Wait until charging ends, or confirm to update anyway.")
    return UpdateDecision(force, warning, charging)


# ------------------------------------------------------------------------------ bookkeeping
@dataclass(frozen=True)
class UpdateStatus:
    state: str = (
        "idle"  # idle receiving staged requested installing switching checking done rolled_back failed rejected
    )
    progress: float = 0.0  # 0..1 over the whole update, for the UI's progress bar
    message: str = ""
    version: str | None = None  # the version being installed
    previous: str | None = None  # the version it replaces (the rollback target)
    running: str | None = None  # what `current` points to now
    updated: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class StagedUpdate:
    version: str
    path: Path
    manifest: Manifest


class _LimitedReader:
    """The upload, counted for the progress bar and cut off past the size limit."""

    def __init__(self, stream: BinaryIO, limit: int, on_read: Callable[[int], None]) -> None:
        self._stream, self._limit, self._on_read, self.count = stream, limit, on_read, 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self.count += len(data)
        if self.count > self._limit:
            raise BundleError(f"the upload is larger than {self._limit // (1024 * 1024)} MiB: not an update bundle")
        self._on_read(self.count)
        return data


def _clean_env() -> dict[str, str]:
    """pip sees the bundle's wheels and nothing else: no index, no local configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _run(cmd: list[str | Path], cwd: Path) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=_clean_env(), cwd=cwd)
    if done.returncode != 0:
        raise OSError(f"{Path(str(cmd[0])).name} {' '.join(map(str, cmd[1:3]))}: "
                      f"{(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def install_venv(wheels: Path, venv: Path) -> str:
    """A venv at `venv` holding the bundle's wheels; returns the installed appliance version.

    System site packages stay visible for the OS's hardware bindings (lgpio on Raspberry Pi OS)."""
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], venv.parent)
    _run([sys.executable, "-m", "pip", "--python", venv / "bin/python", "install", "--quiet", "--no-index",
          "--no-cache-dir", "--disable-pip-version-check", "--find-links", wheels, *sorted(wheels.glob("*.whl"))],
         venv.parent)
    return _run([venv / "bin/python", "-I", "-c", "import importlib.metadata as m; print(m.version('evse-appliance'))"],
                venv.parent).strip()


def restart_services() -> None:
    subprocess.run(["systemctl", "restart", *SERVICES], check=True, capture_output=True, timeout=300)


def http_health(url: str = HEALTH_URL, units: tuple[str, ...] = SERVICES) -> Callable[[str], bool]:
    """Healthy = the services active and the API reports the expected version."""
    def check(version: str) -> bool:
        if units and subprocess.run(["systemctl", "is-active", "--quiet", *units]).returncode != 0:
            return False
        with urllib.request.urlopen(url, timeout=10) as reply:
            return bool(json.load(reply).get("info", {}).get("version") == version)

    return check


# ------------------------------------------------------------------------------ the manager
class UpdateManager:
    def __init__(
        self,
        root: Path = Path("/"),
        *,
        keys: list[Ed25519PublicKey] | None = None,
        installer: Callable[[Path, Path], str] = install_venv,
        restart: Callable[[], None] = restart_services,
        health: Callable[[str], bool] | None = None,
        health_timeout_s: float = 180.0,
        poll_s: float = 3.0,
        max_bundle_bytes: int = MAX_BUNDLE_BYTES,
    ) -> None:
        self.root = Path(root)
        self.keys = release_keys() if keys is None else keys
        self.installer, self.restart = installer, restart
        self.health = http_health() if health is None else health
        self.health_timeout_s, self.poll_s, self.max_bundle_bytes = health_timeout_s, poll_s, max_bundle_bytes
        self.software = self.root / "opt/evse"
        self.current = self.software / "current"
        self.versions = self.software / "versions"
        self.spool = self.root / "var/lib/evse/update"
        self.staged = self.spool / "staged"
        self.request_file = self.spool / "request.json"
        self.status_file = self.spool / "status.json"
        self.state_file = self.software / "update-state.json"
        self._receiving = False  # within receiving(): stage() holds the lock already

    # ---- reading
    def running_version(self) -> str | None:
        try:
            return Path(os.readlink(self.current)).name
        except OSError:
            return None

    def status(self) -> UpdateStatus:
        """For the UI: evse writes this file too, so root takes no decision from it."""
        try:
            with self._spool_dir() as spool:
                status = UpdateStatus(**_read_json(self.status_file.name, spool))
        except (OSError, ValueError, TypeError):
            status = UpdateStatus(updated=0.0)
        return replace(status, running=self.running_version())

    def installed_version(self, name: object) -> str:
        """`name` when it is an installed version: a version name, and a directory of its own
        directly under versions/ (never a path that leads elsewhere)."""
        if not isinstance(name, str) or not VERSION_PATTERN.match(name):
            raise ValueError(f"not a version name: {name!r}")
        target = self.versions / name
        if target.is_symlink() or not (target / ".installed").is_file() \
                or target.resolve().parent != self.versions.resolve():
            raise ValueError(f"version {name} is not installed")
        return name

    # ---- the supervisor's part (user evse)
    @contextlib.contextmanager
    def receiving(self, size: int | None) -> Iterator[Callable[[int], None]]:
        """Hold the update lock while an upload is spooled and staged (UpdateBusy at once if it
        is held). Yields a check to call with the bytes received so far: NoSpace when the
        upload, spooled and then unpacked beside it, would leave less than MIN_FREE_BYTES
        free; `size` (when the client declared it) is checked before anything is read."""
        with self._lock(wait=False):
            self.spool.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(self.spool).free

            def check(received: int) -> None:
                if free - 2 * received < MIN_FREE_BYTES:
                    raise NoSpace(f"not enough free space for an update of {received // (1024 * 1024)} MiB: it needs "
                                  f"twice its size plus {MIN_FREE_BYTES // (1024 * 1024)} MiB free on the data "
                                  f"partition, which has {free // (1024 * 1024)} MiB free")

            if size is not None:
                check(size)
            self._receiving = True
            try:
                yield check
            finally:
                self._receiving = False

    def stage(self, upload: BinaryIO, size: int | None = None, allow_downgrade: bool = False) -> StagedUpdate:
        """Receive and verify a bundle; on success it waits in staged/ for `request()`. Within
        `receiving()` the lock is held already."""
        last = [0.0]

        def received(count: int) -> None:
            now = time.monotonic()
            if size and now - last[0] >= PROGRESS_EVERY_S:  # the status file is on the SD card
                last[0] = now
                self._set(state="receiving", progress=round(0.3 * min(count / size, 1.0), 3),
                          message=f"receiving the update: {count // 1024} of {size // 1024} KiB")

        with contextlib.nullcontext() if self._receiving else self._lock(), self._spool_dir() as spool:
            self._set(state="receiving", progress=0.0, message="receiving the update", version=None, previous=None)
            incoming = self.spool / "staged.new"
            shutil.rmtree(incoming.name, ignore_errors=True, dir_fd=spool)
            try:
                manifest = unpack_bundle(_LimitedReader(upload, self.max_bundle_bytes, received), incoming, self.keys)
                check_newer(manifest.version, self.running_version(), allow_downgrade)
            except BundleError as exc:
                shutil.rmtree(incoming.name, ignore_errors=True, dir_fd=spool)
                self._set(state="rejected", progress=0.0, message=f"update refused: {exc}")
                raise
            shutil.rmtree(self.staged.name, ignore_errors=True, dir_fd=spool)
            os.rename(incoming.name, self.staged.name, src_dir_fd=spool, dst_dir_fd=spool)
            self._set(state="staged", progress=0.3, version=manifest.version, previous=self.running_version(),
                      message=f"version {manifest.version} verified, ready to install")
            return StagedUpdate(manifest.version, self.staged, manifest)

    def request(self, staged: StagedUpdate, status: Mapping[str, object], force: bool = False,
                allow_downgrade: bool = False) -> UpdateDecision:
        """Ask the root installer to install `staged`; refused while a car charges unless `force`."""
        decision = can_update(status, force)
        if not decision.allowed:
            raise UpdateRefused(decision)
        with self._spool_dir() as spool:
            _write_json(self.request_file.name, {"version": staged.version, "force": force,
                                                 "allow_downgrade": allow_downgrade}, spool)
        self._set(state="requested", progress=0.3, version=staged.version, previous=self.running_version(),
                  message=f"installing {staged.version} shortly")
        return decision

    # ---- the installer's part (root, evse-update.service)
    def run(self) -> UpdateStatus | None:
        """Install what was requested, or finish an update a power cut interrupted; None when
        there is nothing to do (the usual case at boot)."""
        with self._spool_dir() as spool:
            try:
                allow_downgrade = _downgrade_allowed(self.request_file.name, spool)
                os.unlink(self.request_file.name, dir_fd=spool)  # consumed first: the path unit must not start us again
                requested = True
            except FileNotFoundError:
                requested = False
        if requested:
            return self.apply(allow_downgrade)
        unfinished = self._unfinished()
        if unfinished is None:
            return None
        version, previous = unfinished
        with self._lock():
            running = self.running_version()
            if running == version:
                return self._check(version, previous)
            self._record(None)
            return self._set(state="failed", progress=0.0, version=version, previous=previous,
                             message=f"the update to {version} was interrupted; still running {running}")

    def _unfinished(self) -> tuple[str, str] | None:
        """The update a power cut interrupted, from the installer's own record: both versions
        still installed, or nothing to finish."""
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
            if state.get("state") not in UNFINISHED:
                return None
            return self.installed_version(state.get("version")), self.installed_version(state.get("previous"))
        except (OSError, ValueError, AttributeError):
            return None

    def _record(self, state: str | None, version: str | None = None, previous: str | None = None) -> None:
        """The installer's record of an update in progress, in a directory only root writes."""
        if state is None:
            self.state_file.unlink(missing_ok=True)
            return
        fd = os.open(self.software, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            _write_json(self.state_file.name, {"state": state, "version": version, "previous": previous}, fd)
        finally:
            os.close(fd)


    def apply(self, allow_downgrade: bool = False) -> UpdateStatus:
        """Install staged/ beside the running version, switch, check, roll back if needed."""
        with self._lock():
            previous = self.running_version()
            work = self.software / "incoming"
            try:
                manifest = self._take_staged(work)
                version = manifest.version
                check_newer(version, previous, allow_downgrade)
                self._set(state="installing", progress=0.4, version=version, previous=previous,
                          message=f"installing {version} beside {previous}")
                self._install(work / "wheels", version)
            except (BundleError, OSError) as exc:
                return self._set(
                    state="failed", progress=0.0, message=f"not installed, still running {previous}: {exc}"
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
                with contextlib.suppress(OSError), self._spool_dir() as spool:
                    shutil.rmtree(self.staged.name, ignore_errors=True, dir_fd=spool)
            if previous is None:
                self._switch(version)
                return self._set(state="done", progress=1.0, message=f"installed {version}")
            # Recorded before the switch, so the next boot can finish or undo it after a power cut.
            self._record("switching", version, previous)
            self._set(state="switching", progress=0.7, message=f"switching to {version}")
            self._switch(version)
            return self._check(version, previous)

    # ---- steps
    def _take_staged(self, work: Path) -> Manifest:
        """Copy staged/ (written by the unprivileged supervisor) somewhere only root writes, then
        check it there: what is installed is exactly what was verified."""
        shutil.rmtree(work, ignore_errors=True)
        with self._spool_dir() as spool:
            try:
                staged = os.open(self.staged.name, os.O_RDONLY | os.O_DIRECTORY | _UNTRUSTED, dir_fd=spool)
            except FileNotFoundError:
                raise BundleError("no update has been uploaded") from None
            except OSError:
                raise BundleError("staged/ is not a directory (a symbolic link?)") from None
            try:
                _copy_regular_tree(staged, work)
            finally:
                os.close(staged)
        return verify_unpacked(work, self.keys)

    def _install(self, wheels: Path, version: str) -> None:
        target = self.versions / version
        if (target / ".installed").exists():
            return  # still here from before (e.g. going back to the previous version)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        try:
            installed = self.installer(wheels, target / "venv")
            if installed != version:
                raise OSError(f"the bundle installed version {installed!r}, not {version}")
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        (target / ".installed").write_text(version + "\n", encoding="utf-8")

    def _switch(self, version: str) -> None:
        """Point `current` at `version` in one rename: the services see the old or the new, never half."""
        self.installed_version(version)
        link = self.current.with_name(f".current.{os.getpid()}")
        link.unlink(missing_ok=True)
        os.symlink(f"versions/{version}", link)
        os.replace(link, self.current)
        _fsync_dir(self.software)

    def _check(self, version: str, previous: str) -> UpdateStatus:
        self._record("checking", version, previous)
        self._set(state="checking", progress=0.8, version=version, previous=previous,
                  message=f"restarting on {version} and waiting for it to answer")
        if self._restart_and_wait(version):
            self._prune(keep={version, previous})
            self._record(None)
            return self._set(state="done", progress=1.0, message=f"updated from {previous} to {version}")
        self._switch(previous)
        back = self._restart_and_wait(previous)
        shutil.rmtree(self.versions / version, ignore_errors=True)
        self._record(None)
        why = f"version {version} did not come up within {self.health_timeout_s:g} s"
        if back:
            return self._set(state="rolled_back", progress=0.0, message=f"{why}; rolled back to {previous}")
        return self._set(state="failed", progress=0.0,
                         message=f"{why}; rolled back to {previous}, which does not answer either")

    def _restart_and_wait(self, version: str) -> bool:
        with contextlib.suppress(Exception):  # whether it came up is for the health check to say
            self.restart()
        deadline = time.monotonic() + self.health_timeout_s
        while True:
            try:
                if self.health(version):
                    return True
            except Exception:  # noqa: BLE001 - a service still starting refuses connections: keep polling
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.poll_s)

    def _prune(self, keep: set[str]) -> None:
        for old in self.versions.iterdir():
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)

    # ---- files
    @contextlib.contextmanager
    def _spool_dir(self) -> Iterator[int]:
        """The spool as a directory descriptor: evse owns its parent and could swap the spool for
        a symbolic link, which root must not follow."""
        self.spool.parent.mkdir(parents=True, exist_ok=True)
        parent = os.open(self.spool.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.spool.name, 0o750, dir_fd=parent)
                # Made by root at boot, it must still be the supervisor's to stage into.
                owner = os.fstat(parent)
                os.chown(self.spool.name, owner.st_uid, owner.st_gid, dir_fd=parent, follow_symlinks=False)
            fd = os.open(self.spool.name, os.O_RDONLY | os.O_DIRECTORY | _UNTRUSTED, dir_fd=parent)
        finally:
            os.close(parent)
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _lock(self, wait: bool = True) -> Iterator[None]:
        """One update at a time, across the supervisor and the root installer; without `wait`,
        UpdateBusy when someone holds it."""
        with self._spool_dir() as spool:
            fd = os.open(".lock", os.O_RDONLY | os.O_CREAT | _UNTRUSTED, 0o644, dir_fd=spool)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{self.spool / '.lock'} is not a regular file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise UpdateBusy("another update is being received or installed; try again when it is done "
                                 "(GET /api/v1/system/update shows its progress)") from None
            yield
        finally:
            os.close(fd)

    def _set(self, **changes: Any) -> UpdateStatus:
        status = replace(self.status(), updated=time.time(), **changes)
        with self._spool_dir() as spool:
            _write_json(self.status_file.name, {k: v for k, v in status.to_dict().items() if k != "running"}, spool)
        return replace(status, running=self.running_version())


def installed_manager(root: Path = Path("/")) -> UpdateManager | None:
    """The manager when this process runs from an installed version (an
    opt/evse/versions/<v>/venv), else None: on a laptop there is nothing to update."""
    versions = (root / "opt/evse/versions").resolve()
    return UpdateManager(root) if Path(sys.prefix).resolve().parent.parent == versions else None


def _read_json(name: str, dir_fd: int) -> dict[str, Any]:
    """A small JSON object from a regular file, never through a symbolic link."""
    fd = os.open(name, os.O_RDONLY | _UNTRUSTED, dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(f"{name} is not a regular file")
        data = json.loads(f.read(MAX_STATE_BYTES))
    if not isinstance(data, dict):
        raise ValueError(f"{name}: not a JSON object")
    return data


def _downgrade_allowed(name: str, dir_fd: int) -> bool:
    """Whether the owner allowed a downgrade in the request; anything odd in it allows none."""
    try:
        fd = os.open(name, os.O_RDONLY | _UNTRUSTED, dir_fd=dir_fd)
    except FileNotFoundError:
        raise
    except OSError:  # a symbolic link or a FIFO planted in its place
        return False
    try:
        with os.fdopen(fd, "rb") as f:
            asked = json.loads(f.read(4096))
    except (OSError, ValueError):
        return False
    return isinstance(asked, dict) and asked.get("allow_downgrade") is True


def _write_json(name: str, data: Mapping[str, object], dir_fd: int) -> None:
    """Atomic and symlink-safe in a directory another user may write: a fresh file (O_EXCL,
    O_NOFOLLOW) whose mode is set on the descriptor, renamed over the old one only while it is
    still the file written."""
    tmp = f".{name}.{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
        os.fchmod(f.fileno(), 0o644)
        written = os.fstat(f.fileno())
    now = os.stat(tmp, dir_fd=dir_fd, follow_symlinks=False)
    if (now.st_dev, now.st_ino) != (written.st_dev, written.st_ino):
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise OSError(f"{name}: its temporary file was replaced while it was written")
    os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def _copy_regular_tree(src: int, dest: Path) -> None:
    """Copy the directory open at `src` to `dest`: directories and regular files only; a symbolic
    link, device or FIFO (which root would follow or block on) refuses the whole bundle."""
    dest.mkdir(parents=True)
    for name in sorted(os.listdir(src)):
        st = os.stat(name, dir_fd=src, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | _UNTRUSTED, dir_fd=src)
            try:
                _copy_regular_tree(sub, dest / name)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            fd = os.open(name, os.O_RDONLY | _UNTRUSTED, dir_fd=src)
            with os.fdopen(fd, "rb") as f, open(dest / name, "xb") as out:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise BundleError(f"{name} in the staged update is not a regular file")
                shutil.copyfileobj(f, out)
        else:
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise BundleError(f"{name} in the staged update is {kind}: refused")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["run"]:
        print("usage: python -m appliance.system.update run   (as root, from evse-update.service)", file=sys.stderr)
        return 2
    status = UpdateManager().run()
    if status is None:
        print("evse update: nothing to do")
        return 0
    print(f"evse update: {status.state}: {status.message}")
    return 1 if status.state in ("failed", "rolled_back") else 0


if __name__ == "__main__":
    raise SystemExit(main())
