"""The supervisor's link negotiates the protocol version and refuses a pilot it cannot speak to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance import protocol as p
from appliance.supervisor.pilot_link import PilotLink
from appliance.supervisor.recorder import StorageRecorder
from appliance.supervisor.storage import Storage

V1_PILOT = {"v": 1, "ok": False, "error": {"code": "bad_request", "message": "v: Input should be 1"}}


async def _serve(path: Path, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> asyncio.Server:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            command = json.loads(line)
            writer.write(json.dumps({**answer(command), "id": command.get("id")}).encode() + b"\n")
            await writer.drain()

    return await asyncio.start_unix_server(client, str(path))


async def _link_against(path: Path, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> tuple[PilotLink, list[Any]]:
    hellos: list[Any] = []
    server = await _serve(path, answer)
    link = PilotLink(path, lambda _: None, hellos.append, heartbeat_s=60)
    task = asyncio.create_task(link.run())
    await asyncio.sleep(0.5)
    link.stop()
    await task
    server.close()
    return link, hellos


def test_a_pilot_of_protocol_1_is_not_used_and_the_link_says_why(tmp_path: Path) -> None:
    link, hellos = asyncio.run(_link_against(tmp_path / "v1.sock", lambda _: V1_PILOT))
    assert hellos == []
    assert (
        link.problem is not None and "protocol version 1" in link.problem and "update the two together" in link.problem
    )


def test_a_pilot_that_refuses_our_versions_is_named_in_the_problem(tmp_path: Path) -> None:
    refusal = p.error(
        None, p.ErrorCode.UNSUPPORTED_VERSION, "protocol version 2 is not spoken here; this pilot speaks 3"
    )
    link, hellos = asyncio.run(_link_against(tmp_path / "v3.sock", lambda _: {**refusal, "v": 2}))
    assert hellos == [] and link.problem is not None and "this pilot speaks 3" in link.problem


def test_the_hello_offers_our_versions_and_a_matching_pilot_is_used(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    def pilot(command: dict[str, Any]) -> dict[str, Any]:
        seen.append(command)
        return p.HelloReply(version="x", simulated=True, boot_id="b", line_limit_a=32.0, stations=[]).wire()

    link, hellos = asyncio.run(_link_against(tmp_path / "v2.sock", pilot))
    assert seen[0]["cmd"] == "hello" and seen[0]["v"] == 2 and seen[0]["versions"] == [2]
    assert len(hellos) == 1 and hellos[0].protocol == 2 and link.problem is None


def test_pilot_logs_are_fetched_on_from_where_the_last_fetch_ended(tmp_path: Path) -> None:
    """The recorder answers each fetch with the `since` of the next, so every later fetch asks
    only for new entries (and the log keeps being fetched at all)."""
    with Storage(tmp_path / "evse.db") as storage:
        recorder = StorageRecorder(storage)
        entries = [p.LogEntry(seq=n, t=float(n), level="info", station=None, message=f"line {n}") for n in (1, 2, 3)]
        assert recorder.pilot_logs(entries, 3, "boot-a") == 3
        assert recorder.pilot_logs([p.LogEntry(seq=4, t=4.0, level="warning", station=1, message="four")], 4,
                                   "boot-a") == 4
        assert [e.message for e in storage.pilot_logs.list().items] == ["four", "line 3", "line 2", "line 1"]
