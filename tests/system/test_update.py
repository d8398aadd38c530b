"""Over-the-air updates on a real directory tree with real venvs: good bundles install beside the
running version and switch; forged, truncated and failing ones leave the old version running and
the data untouched."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.system.bundle import BundleError, create_bundle
from appliance.system.update import (
    NotNewer,
    UpdateManager,
    UpdateRefused,
    can_update,
    charging_stations,
    check_newer,
    http_health,
    installed_manager,
)
from tests.system.wheels import make_wheel

RELEASE_KEY = Ed25519PrivateKey.generate()
IDLE = {"stations": {"1": {"state": "A", "contactor": False}, "2": {"state": "B", "contactor": False}}}
CHARGING = {"stations": {"1": {"state": "C", "contactor": True}, "2": {"state": "A", "contactor": False}}}
REPO = Path(__file__).resolve().parents[2]
DATA = b"sessions and telemetry that must survive every update\n"


def running_version(root: Path) -> str | None:
    """Ask the code `current` points to which version it is, as the services would run it."""
    python = root / "opt/evse/current/venv/bin/python"
    done = subprocess.run([python, "-I", "-c", "import appliance; print(appliance.__version__)"],
                          capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


class Services:
    """Stands in for systemd: counts restarts; 'healthy' = the switched-to code starts and says its version."""

    def __init__(self, root: Path) -> None:
        self.root, self.restarts = root, 0

    def restart(self) -> None:
        self.restarts += 1

    def health(self, version: str) -> bool:
        return running_version(self.root) == version


def manager(root: Path, services: Services, **kw: object) -> UpdateManager:
    options: dict = {"keys": [RELEASE_KEY.public_key()], "restart": services.restart, "health": services.health,
                     "health_timeout_s": 0.5, "poll_s": 0.1, **kw}
    return UpdateManager(root, **options)


def bundle_bytes(tmp: Path, version: str, *, key: Ed25519PrivateKey = RELEASE_KEY, starts: bool = True) -> bytes:
    wheels = tmp / f"wheels-{version}"
    make_wheel(wheels, version, starts=starts)
    out = tmp / f"evse-{version}.bundle"
    create_bundle(sorted(wheels.glob("*.whl")), version, key, out)
    return out.read_bytes()


@pytest.fixture(scope="module")
def installed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with version 0.1.0 installed the way the first update would install it."""
    root = tmp_path_factory.mktemp("template")
    services = Services(root)
    m = manager(root, services)
    m.stage(io.BytesIO(bundle_bytes(tmp_path_factory.mktemp("b"), "0.1.0")))
    assert m.apply().state == "done"
    return root


@pytest.fixture
def root(installed_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(installed_template, root, symlinks=True)
    (root / "var/lib/evse/evse.db").write_bytes(DATA)
    return root


def assert_untouched(root: Path) -> None:
    assert running_version(root) == "0.1.0"
    assert (root / "var/lib/evse/evse.db").read_bytes() == DATA


def test_good_bundle_installs_beside_the_running_version_and_switches(root: Path, tmp_path: Path) -> None:
    services = Services(root)
    m = manager(root, services)
    staged = m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.2.0")))
    assert (staged.version, m.status().state, m.status().running) == ("0.2.0", "staged", "0.1.0")
    m.request(staged, IDLE)
    assert (root / "var/lib/evse/update/request.json").exists()

    status = m.run()

    assert (status.state, status.progress, status.running) == ("done", 1.0, "0.2.0")
    assert running_version(root) == "0.2.0"
    assert sorted(p.name for p in (root / "opt/evse/versions").iterdir()) == ["0.1.0", "0.2.0"]
    assert services.restarts == 1
    assert not (root / "var/lib/evse/update/request.json").exists()
    assert not (root / "var/lib/evse/update/staged").exists()
    assert (root / "var/lib/evse/evse.db").read_bytes() == DATA
    saved = json.loads((root / "var/lib/evse/update/status.json").read_text())
    assert saved["state"] == "done" and saved["previous"] == "0.1.0"


def test_a_bundle_signed_with_another_key_is_refused(root: Path, tmp_path: Path) -> None:
    m = manager(root, Services(root))
    forged = bundle_bytes(tmp_path, "0.2.0", key=Ed25519PrivateKey.generate())
    with pytest.raises(BundleError, match="signature"):
        m.stage(io.BytesIO(forged))
    assert m.status().state == "rejected" and "signature" in m.status().message
    assert not (root / "var/lib/evse/update/staged").exists()
    assert m.run() is None  # nothing requested, nothing installed
    assert_untouched(root)


@pytest.mark.parametrize("keep", [0.0, 0.05, 0.2, 0.5, 0.9, 0.999])
def test_a_truncated_upload_is_refused(root: Path, tmp_path: Path, keep: float) -> None:
    m = manager(root, Services(root))
    whole = bundle_bytes(tmp_path, "0.2.0")
    with tarfile.open(fileobj=io.BytesIO(whole)) as tar:
        last = tar.getmembers()[-1]
        content_end = last.offset_data + last.size  # what follows is the tar's zero padding
    with pytest.raises(BundleError, match="incomplete|cut short"):
        m.stage(io.BytesIO(whole[: int(content_end * keep)]))
    assert not (root / "var/lib/evse/update/staged").exists()
    assert_untouched(root)


def test_a_payload_changed_after_signing_is_refused(root: Path, tmp_path: Path) -> None:
    whole = bytearray(bundle_bytes(tmp_path, "0.2.0"))
    at = whole.index(b'__version__ = "0.2.0"')  # inside the (stored, uncompressed) wheel
    whole[at: at + 11] = b"__evil__ = "
    with pytest.raises(BundleError, match="signed hash"):
        manager(root, Services(root)).stage(io.BytesIO(bytes(whole)))
    assert_untouched(root)


def test_a_version_that_does_not_come_up_is_rolled_back(root: Path, tmp_path: Path) -> None:
    services = Services(root)
    m = manager(root, services)
    m.request(m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.3.0", starts=False))), IDLE)

    status = m.run()

    assert status.state == "rolled_back"
    assert "0.3.0 did not come up" in status.message and "rolled back to 0.1.0" in status.message
    assert services.restarts == 2  # onto the new version, then back
    assert not (root / "opt/evse/versions/0.3.0").exists()
    assert_untouched(root)


def test_an_update_cut_off_after_the_switch_is_finished_at_the_next_boot(root: Path, tmp_path: Path) -> None:
    def power_cut() -> None:
        raise SystemExit("power cut")

    services = Services(root)
    m = manager(root, services, restart=power_cut)
    m.request(m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.3.0", starts=False))), IDLE)
    with pytest.raises(SystemExit):
        m.run()
    assert running_version(root) is None  # switched to the broken version, then the lights went out

    status = manager(root, services).run()  # evse-update.service at the next boot

    assert status.state == "rolled_back"
    assert_untouched(root)


def test_a_bundle_whose_dependencies_are_missing_is_not_installed(root: Path, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "w", "0.2.0", requires=("not-in-the-bundle",))
    create_bundle([wheel], "0.2.0", RELEASE_KEY, tmp_path / "b")
    services = Services(root)
    m = manager(root, services)
    m.request(m.stage((tmp_path / "b").open("rb")), IDLE)

    status = m.run()

    assert status.state == "failed" and "still running 0.1.0" in status.message
    assert services.restarts == 0
    assert not (root / "opt/evse/versions/0.2.0").exists()
    assert_untouched(root)


def test_the_running_version_is_not_installed_again(root: Path, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="already running"):
        manager(root, Services(root)).stage(io.BytesIO(bundle_bytes(tmp_path, "0.1.0")))
    assert_untouched(root)


def test_an_older_version_is_refused_unless_a_downgrade_is_allowed(root: Path, tmp_path: Path) -> None:
    services = Services(root)
    m = manager(root, services)
    old = bundle_bytes(tmp_path, "0.0.9")
    with pytest.raises(NotNewer, match="0.0.9 is older than the running 0.1.0"):
        m.stage(io.BytesIO(old))
    assert m.status().state == "rejected" and not (root / "var/lib/evse/update/staged").exists()

    staged = m.stage(io.BytesIO(old), allow_downgrade=True)
    m.request(staged, IDLE, allow_downgrade=True)
    assert json.loads((root / "var/lib/evse/update/request.json").read_text())["allow_downgrade"] is True
    status = m.run()
    assert (status.state, status.running) == ("done", "0.0.9")


def test_the_installer_refuses_a_downgrade_the_request_did_not_allow(root: Path, tmp_path: Path) -> None:
    m = manager(root, Services(root))
    m.request(m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.0.9")), allow_downgrade=True), IDLE)

    status = m.run()

    assert status.state == "failed" and "0.0.9 is older than the running 0.1.0" in status.message
    assert_untouched(root)


@pytest.mark.parametrize(("new", "running", "allowed"), [
    ("0.2.0", "0.1.0", True), ("0.10.0", "0.9.0", True), ("1.0.0", "1.0.0rc1", True), ("0.1.0", None, True),
    ("0.1.0", "0.2.0", False), ("0.9.0", "0.10.0", False), ("1.0.0rc1", "1.0.0", False), ("0.1.0", "0.1.0", False),
])
def test_only_newer_versions_go_in_without_confirmation(new: str, running: str | None, allowed: bool) -> None:
    if allowed:
        check_newer(new, running)
    else:
        with pytest.raises(NotNewer) as refused:
            check_newer(new, running)
        expected = f"{new} is already running" if new == running else f"{new} is older than the running {running};"
        assert expected in str(refused.value)
        if new != running:
            check_newer(new, running, allow_downgrade=True)  # the owner's confirmation lets it in


def test_an_update_waits_for_charging_to_end_unless_forced(root: Path, tmp_path: Path) -> None:
    m = manager(root, Services(root))
    staged = m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.2.0")))
    with pytest.raises(UpdateRefused) as refused:
        m.request(staged, CHARGING)
    assert refused.value.decision.charging == (1,)
    assert "station 1 is charging" in str(refused.value)
    assert not (root / "var/lib/evse/update/request.json").exists()

    decision = m.request(staged, CHARGING, force=True)
    assert decision.allowed and decision.warning
    assert (root / "var/lib/evse/update/request.json").exists()


@pytest.mark.parametrize(("status", "charging"), [
    (IDLE, ()),
    (CHARGING, (1,)),
    ({"stations": [{"id": 2, "state": "D"}, {"id": 1, "state": "B", "contactor": True}]}, (1, 2)),
    ({}, ()),
])
def test_charging_stations(status: dict, charging: tuple[int, ...]) -> None:
    assert charging_stations(status) == charging
    assert can_update(status).allowed == (not charging)


def test_upload_progress_reaches_the_status(root: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    m = manager(root, Services(root))
    whole = bundle_bytes(tmp_path, "0.2.0")
    real_set: Callable = m._set

    def spy(**changes: object):  # type: ignore[no-untyped-def]
        status = real_set(**changes)
        seen.append(status.progress)
        return status

    m._set = spy  # type: ignore[method-assign]
    m.stage(io.BytesIO(whole), size=len(whole))
    assert seen[0] == 0.0 and seen[-1] == 0.3 and seen == sorted(seen)


def test_the_default_health_check_reads_the_version_the_api_publishes() -> None:
    class OpenApi(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            body = json.dumps({"openapi": "3.1.0", "info": {"title": "EVSE appliance", "version": "0.2.0"}}).encode()
            self.send_response(200 if self.path == "/openapi.json" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None: ...

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OpenApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        check = http_health(f"http://127.0.0.1:{server.server_address[1]}/openapi.json", units=())
        assert check("0.2.0") and not check("0.1.0")
    finally:
        server.shutdown()


def test_only_an_installed_version_updates_itself(root: Path) -> None:
    assert installed_manager(root) is None  # this test runs from the development venv
    venv = (root / "opt/evse/current/venv").resolve()
    probe = subprocess.run([venv / "bin/python", "-I", "-c", f"""
import sys; sys.path[:0] = {[str(REPO), *sys.path]!r}  # this test's code, run by the installed venv
from pathlib import Path
from appliance.system.update import installed_manager
print(installed_manager(Path({str(root)!r})) is not None)"""], capture_output=True, text=True)
    assert probe.stdout.strip() == "True", probe.stderr


# ------------------------------------------------------------- what the evse user can plant for root
def plant_interrupted_update(root: Path, previous: str) -> None:
    """What evse can write: a status.json claiming an update was cut off mid-check, rolling back to `previous`."""
    evil = root / "var/lib/evse/evil/venv/bin"
    evil.mkdir(parents=True)
    (root / "var/lib/evse/update/status.json").write_text(json.dumps(
        {"state": "checking", "progress": 0.8, "message": "", "version": "0.1.0", "previous": previous}))


@pytest.mark.parametrize("previous", ["../../../var/lib/evse/evil", "/var/lib/evse/evil", "0.0.9"])
def test_root_never_switches_to_a_version_named_by_the_status_file(root: Path, previous: str) -> None:
    plant_interrupted_update(root, previous)
    services = Services(root)
    services.health = lambda version: False  # type: ignore[method-assign]  # a rollback would be taken

    manager(root, services).run()

    assert os.readlink(root / "opt/evse/current") == "versions/0.1.0"
    assert services.restarts == 0


def test_a_rollback_target_outside_versions_is_refused(root: Path) -> None:
    m = manager(root, Services(root))
    for bad in ("../../../var/lib/evse/evil", "..", ".", "a/b", "", "0.1.0/../../..", "0.0.9"):
        with pytest.raises(ValueError):
            m._switch(bad)
    assert os.readlink(root / "opt/evse/current") == "versions/0.1.0"


def test_the_resume_state_is_kept_where_only_root_writes(root: Path, tmp_path: Path) -> None:
    def power_cut() -> None:
        raise SystemExit("power cut")

    m = manager(root, Services(root), restart=power_cut)
    m.request(m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.3.0", starts=False))), IDLE)
    with pytest.raises(SystemExit):
        m.run()
    state = json.loads((root / "opt/evse/update-state.json").read_text())
    assert (state["version"], state["previous"]) == ("0.3.0", "0.1.0")
    (root / "var/lib/evse/update/status.json").unlink()  # what evse can do to its own files changes nothing

    assert manager(root, Services(root)).run().state == "rolled_back"
    assert_untouched(root)


def test_a_symlinked_lock_is_refused(root: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    m = manager(root, Services(root))
    m.request(m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.2.0"))), IDLE)
    lock = root / "var/lib/evse/update/.lock"
    lock.unlink()
    lock.symlink_to(victim)
    with pytest.raises(OSError):
        m.run()
    assert not victim.exists()
    assert_untouched(root)


def test_a_symlinked_spool_is_refused(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spool = root / "var/lib/evse/update"
    shutil.rmtree(spool, ignore_errors=True)
    spool.symlink_to(elsewhere)
    with pytest.raises(OSError):
        manager(root, Services(root)).stage(io.BytesIO(b""))
    assert list(elsewhere.iterdir()) == []


def test_the_status_file_mode_is_set_on_the_file_written(root: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """evse swaps the temporary status file for a symlink between its write and its chmod."""
    victim = tmp_path / "shadow"
    victim.write_text("secret")
    victim.chmod(0o600)
    spool = root / "var/lib/evse/update"
    real_fsync = os.fsync

    def swap(fd: int) -> None:
        real_fsync(fd)
        for tmp in spool.glob(".status.json.*"):
            tmp.unlink()
            tmp.symlink_to(victim)

    monkeypatch.setattr("appliance.system.update.os.fsync", swap)
    with contextlib.suppress(OSError):
        manager(root, Services(root))._set(state="idle")
    assert victim.stat().st_mode & 0o777 == 0o600
    assert not (spool / "status.json").is_symlink()


def test_symlinks_in_the_staged_bundle_are_refused(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "root-only"
    secret.write_text("root's secret")
    m = manager(root, Services(root))
    staged = m.stage(io.BytesIO(bundle_bytes(tmp_path, "0.2.0")))
    wheel = next((root / "var/lib/evse/update/staged/wheels").glob("*.whl"))
    wheel.unlink()
    wheel.symlink_to(secret)
    m.request(staged, IDLE)

    status = m.run()

    assert status.state == "failed" and "symbolic link" in status.message
    assert not (root / "opt/evse/versions/0.2.0").exists()
    assert_untouched(root)


def test_a_spool_made_by_the_installer_belongs_to_the_data_directory_owner(root: Path) -> None:
    shutil.rmtree(root / "var/lib/evse/update")
    assert manager(root, Services(root)).run() is None
    spool = (root / "var/lib/evse/update").stat()
    data = (root / "var/lib/evse").stat()
    assert (spool.st_uid, spool.st_gid, spool.st_mode & 0o777) == (data.st_uid, data.st_gid, 0o750)
