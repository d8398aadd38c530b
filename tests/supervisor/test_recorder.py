"""The recorder batches what can wait (telemetry, open sessions' totals) into one durable commit
every 10 s and writes what cannot (session open and close) at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.live import LiveStation
from appliance.supervisor.recorder import FLUSH_EVERY_S, StorageRecorder
from appliance.supervisor.runtime import SupervisorRuntime
from appliance.supervisor.sessions import ChargingSession
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage, TelemetrySample, telemetry

T0 = 1_700_000_040.0


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage(tmp_path / "evse.db", spool=tmp_path / "spool.jsonl") as s:
        yield s


def _live(energy_wh: float) -> LiveStation:
    return LiveStation(station=1, state="C", pilot="X2", offered_a=16.0, contactor=True, current_a=[16.0] * 3,
                       voltage_v=[230.0] * 3, power_w=[3680.0] * 3, energy_wh=energy_wh)


def _commits(storage: Storage) -> list[str]:
    seen: list[str] = []
    storage._g._db.conn.set_trace_callback(seen.append)
    return seen


def test_telemetry_and_session_totals_share_one_commit_every_10_s(storage: Storage, tmp_path: Path) -> None:
    recorder = StorageRecorder(storage)
    session = ChargingSession(1, T0, "on")
    recorder.session_opened(session)
    assert storage.sessions.get(session.id).energy_kwh == 0.0
    seen = _commits(storage)
    for i in range(int(FLUSH_EVERY_S) + 1):
        session.energy_kwh = i / 100
        recorder.telemetry(T0 + i, _live(i * 10.0))
        recorder.session_updated(session)
        recorder.tick(T0 + i)
        if i == 1:  # the first tick flushed; the second waits in the spool
            assert storage.history(1, T0, T0 + 60, "raw").points[-1].t == T0
            assert len((tmp_path / "spool.jsonl").read_text().splitlines()) == 1
            assert storage.sessions.get(session.id).energy_kwh == 0.0
    storage._g._db.conn.set_trace_callback(None)
    assert seen.count("PRAGMA synchronous=FULL") == 2  # durable commits at ticks 0 and 10 only
    assert len(storage.history(1, T0, T0 + 60, "raw").points) == FLUSH_EVERY_S + 1
    assert storage.sessions.get(session.id).energy_kwh == FLUSH_EVERY_S / 100
    assert not (tmp_path / "spool.jsonl").exists()


def test_unchanged_totals_are_not_rewritten(storage: Storage) -> None:
    recorder = StorageRecorder(storage)
    session = ChargingSession(1, T0, "on", energy_kwh=2.0)
    recorder.session_opened(session)
    recorder.session_updated(session)
    recorder.flush()
    seen = _commits(storage)
    recorder.session_updated(session)
    recorder.flush()
    storage._g._db.conn.set_trace_callback(None)
    assert not any(s.startswith("UPDATE") for s in seen)


def test_a_closed_session_is_written_at_once_with_its_final_totals(storage: Storage) -> None:
    recorder = StorageRecorder(storage)
    session = ChargingSession(1, T0, "on")
    recorder.session_opened(session)
    session.energy_kwh, session.end = 4.5, T0 + 600
    recorder.session_updated(session)
    recorder.session_closed(session)
    stored = storage.sessions.get(session.id)
    assert (stored.end_t, stored.energy_kwh) == (T0 + 600, 4.5)
    recorder.flush()  # nothing left to write for it
    assert storage.sessions.get(session.id).energy_kwh == 4.5


def test_the_spool_is_written_to_the_database_at_the_next_start(tmp_path: Path) -> None:
    spool = tmp_path / "spool.jsonl"
    storage = Storage(tmp_path / "evse.db", spool=spool)
    recorder = StorageRecorder(storage)
    for i in range(5):
        recorder.telemetry(T0 + i, _live(i * 10.0))
        recorder.tick(T0 + i)
    storage._g.close()  # a crash: no flush
    with spool.open("a") as f:
        f.write(json.dumps({"t": T0 + 5})[:9])  # torn by the kill
    with Storage(tmp_path / "evse.db", spool=spool) as again:
        assert [p.t for p in again.history(1, T0, T0 + 60, "raw").points] == [T0 + i for i in range(5)]
    assert not spool.exists()


def test_the_runtime_writes_the_last_batch_when_it_stops(tmp_path: Path) -> None:
    calls: list[str] = []
    runtime = SupervisorRuntime(SupervisorCore(SiteSettings()), tmp_path / "pilot.sock",
                                on_stop=lambda: calls.append("flushed"))
    asyncio.run(runtime.stop())
    assert calls == ["flushed"]


def test_the_spool_holds_no_more_than_the_buffer_while_writes_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "MAX_BUFFER", 4)
    spool = tmp_path / "spool.jsonl"
    with Storage(tmp_path / "evse.db", spool=spool) as storage:
        for i in range(10):  # no flush: as if every write failed
            storage.telemetry.add(TelemetrySample(t=T0 + i, station=1, state="C", pilot="X2", offered_a=16.0,
                                                  current_a=(16.0,) * 3, voltage_v=(230.0,) * 3,
                                                  power_w=(3680.0,) * 3, energy_wh=i * 1.0))
            storage.telemetry.stage()
        assert [json.loads(line)["t"] for line in spool.read_text().splitlines()] == [T0 + i for i in range(6, 10)]
