"""The real pilot process (`evse pilot --sim`) over its real Unix socket, in real time."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.realtime


class Client:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(str(path))
        self.buffer = b""

    def send(self, raw: bytes) -> None:
        self.sock.sendall(raw + b"\n")

    def messages(self):
        while True:
            while b"\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            yield json.loads(line)

    def reply(self, raw: bytes, command_id: int | None = None) -> dict:
        self.send(raw)
        for message in self.messages():
            if "ok" in message and (command_id is None or message.get("id") == command_id):
                return message
        raise AssertionError("connection closed")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def pilot(tmp_path: Path):
    sock = tmp_path / "pilot.sock"
    scenario = tmp_path / "cars.toml"
    scenario.write_text(
        '[[event]]\nat = 0.5\nstation = 1\ndo = "plug"\ncar = { cable_a = 20 }\n'
        '[[event]]\nat = 1.0\nstation = 1\ndo = "request"\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance", "pilot", "--sim", "--socket", str(sock), "--scenario", str(scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not sock.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "pilot socket never appeared"
        time.sleep(0.05)
    yield proc, sock
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def test_bad_input_never_kills_the_connection_or_the_process(pilot) -> None:
    proc, sock = pilot
    c = Client(sock)
    for garbage in (b"{oops", b"\x00\x01\x02", b"[]", b'{"cmd":"set","station":1,"current_a":99,"allowed":true}',
                    b"x" * 70_000, b'{"cmd":"nope"}'):
        answer = c.reply(garbage)
        assert answer["ok"] is False and answer["error"]["message"]
    assert c.reply(b'{"cmd":"hello","client":"test","id":1}')["protocol"] == 2
    c.close()
    # a client that vanishes mid-line does not matter either
    rude = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    rude.connect(str(sock))
    rude.sendall(b'{"cmd": "get_al')
    rude.close()
    c2 = Client(sock)
    assert c2.reply(b'{"cmd":"get_all"}')["ok"] is True
    assert proc.poll() is None


def test_commands_events_and_telemetry_in_real_time(pilot) -> None:
    proc, sock = pilot
    c = Client(sock)
    assert c.reply(b'{"cmd":"set","station":1,"current_a":20,"allowed":true}')["ok"]
    seen_c, telemetry, contactor = False, 0, False
    deadline = time.monotonic() + 8
    for message in c.messages():
        if message.get("event") == "telemetry":
            telemetry += 1
            c.send(b'{"cmd":"heartbeat"}')
        if message.get("event") == "state" and message.get("cause") == {"from": "B", "to": "C"}:
            seen_c = True
        if message.get("event") == "state" and message.get("contactor"):
            contactor = True
            assert message["offered_a"] == 20.0 and message["cable_a"] == 20.0
        if (seen_c and contactor and telemetry >= 4) or time.monotonic() > deadline:
            break
    assert seen_c and contactor and telemetry >= 4
    logs = c.reply(b'{"cmd":"fetch_logs","since":0,"id":77}', command_id=77)
    assert any("contactor closed" in e["message"] for e in logs["entries"])
