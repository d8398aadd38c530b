"""`evse supervisor` serving on sockets systemd handed over (LISTEN_FDS), as on the image for
ports 80 and 443: the requests arrive with the client's own address, not a forwarder's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from appliance.supervisor.server import inherited_listeners

ROOT = Path(__file__).resolve().parents[2]


def test_the_supervisor_serves_an_inherited_socket(tmp_path: Path) -> None:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(16)
    port = listening.getsockname()[1]
    fd = listening.fileno()

    def as_fd_3() -> None:
        os.dup2(fd, 3)  # sd_listen_fds: the first handed-over socket is fd 3

    env = {**os.environ, "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http", "PYTHONUNBUFFERED": "1"}
    env.pop("EVSE_DATA_DIR", None)
    command = ["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", sys.executable, "-m", "appliance", "supervisor",
               "--socket", str(tmp_path / "pilot.sock"), "--data-dir", str(tmp_path / "data"), "--port", "0"]
    log = tmp_path / "supervisor.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   preexec_fn=as_fd_3, pass_fds=(fd, 3))
    listening.close()  # only the supervisor holds it now
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/auth/me", timeout=2) as answer:
                    me = json.load(answer)
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert me["password_set"] is False and me["setup_code_required"] is False  # the peer is really 127.0.0.1
        assert "serving http on 127.0.0.1 port" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_sockets_for_another_process_are_left_alone() -> None:
    env = {"LISTEN_PID": str(os.getpid() + 1), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"}
    assert inherited_listeners(env) == [] and env["LISTEN_FDS"] == "1"
