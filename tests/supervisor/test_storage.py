"""Storage: telemetry round trip, rollups, resolutions, retention, sessions, migrations, durability."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from appliance.supervisor.storage import RAW_RETENTION_DAYS, NotFound, SchemaError, Storage, TelemetrySample
from appliance.supervisor.storage.migrations import LATEST, migrate

T0 = 1_700_000_040.0  # a minute boundary: 14 Nov 2023 22:14 UTC
DAY = 86400


def sample(t: float, station: int = 1, **overrides: Any) -> TelemetrySample:
    fields: dict[str, Any] = {
        "t": t, "station": station, "state": "C", "pilot": "X2", "offered_a": 16.0,
        "current_a": (16.0, 16.0, 16.0), "voltage_v": (230.0, 230.0, 230.0),
        "power_w": (3680.0, 3680.0, 3680.0), "energy_wh": 0.0, "temperature_c": 30.0,
    }
    fields.update(overrides)
    return TelemetrySample(**fields)


def charge(storage: Storage, start: float, seconds: int, stations: tuple[int, ...] = (1, 2),
           watts: float = 11040.0, flush_every: int = 60) -> None:
    """Steady charging at 1 Hz: the energy counter climbs watts/3600 Wh a second."""
    for i in range(seconds):
        for station in stations:
            storage.telemetry.add(sample(start + i, station, power_w=(watts / 3,) * 3, energy_wh=i * watts / 3600))
        if (i + 1) % flush_every == 0:
            storage.telemetry.flush()
    storage.telemetry.flush()


@pytest.fixture
def storage() -> Iterator[Storage]:
    with Storage(":memory:") as s:
        yield s


# ---------------------------------------------------------------- telemetry


def test_batch_flush_and_raw_query_round_trip(storage: Storage) -> None:
    for i in range(5):
        storage.telemetry.add(sample(T0 + i, 1, current_a=(10.0 + i, 11.0, 12.0), energy_wh=100.0 + i))
        storage.telemetry.add(sample(T0 + i, 2, state="B", offered_a=0.0, temperature_c=None))
    assert storage.telemetry.pending == 10
    assert storage.history(None, T0, T0 + 5, "raw").points == []  # nothing on disk before the flush
    assert storage.telemetry.flush() == 10
    assert storage.telemetry.pending == 0

    series = storage.history(None, T0, T0 + 5, "raw")
    assert series.resolution == "raw" and len(series.points) == 10
    assert [(p.t, p.station) for p in series.points[:4]] == [(T0, 1), (T0, 2), (T0 + 1, 1), (T0 + 1, 2)]
    p = series.points[6]
    assert (p.station, p.n, p.state_min, p.current_a_avg, p.energy_wh) == (1, 1, "C", (13.0, 11.0, 12.0), 1.0)
    q = series.points[7]
    assert (q.station, q.state_max, q.offered_a_max, q.temperature_c_max) == (2, "B", 0.0, None)
    assert [p.station for p in storage.history(2, T0, T0 + 5, "raw").points] == [2] * 5


def test_minute_rollup_values_are_exact(storage: Storage) -> None:
    storage.telemetry.add(sample(T0 - 1, energy_wh=1000.0))  # the previous minute's last sample
    for i in range(60):
        spike = 500.0 if i == 30 else 0.0
        storage.telemetry.add(sample(
            T0 + i, state="B" if i < 10 else "C", offered_a=16.0 if i < 40 else 32.0,
            current_a=(15.0 if i % 2 else 17.0, 8.0, 0.0), voltage_v=(229.0, 231.0, 230.0),
            power_w=(1000.0 + i, 2000.0, 3000.0 + spike), energy_wh=1000.0 + 10 * (i + 1), temperature_c=30 + i / 10))
    storage.telemetry.flush()
    assert storage.history(1, T0, T0 + 60, "minute").points == []  # the minute is still open
    storage.telemetry.add(sample(T0 + 60, energy_wh=1610.0))  # the next minute's first sample closes it
    storage.telemetry.flush()

    [m] = storage.history(1, T0, T0 + 60, "minute").points
    assert (m.t, m.n, m.state_min, m.state_max) == (T0, 60, "B", "C")
    assert m.offered_a_avg == pytest.approx((40 * 16 + 20 * 32) / 60) and m.offered_a_max == 32.0
    assert m.current_a_avg == (16.0, 8.0, 0.0) and m.voltage_v_avg == (229.0, 231.0, 230.0)
    assert m.power_w_avg == (pytest.approx(1029.5), 2000.0, pytest.approx(3000 + 500 / 60))
    assert m.power_w_max == (1059.0, 2000.0, 3500.0)
    assert m.power_total_w_avg == pytest.approx(1029.5 + 2000 + 3000 + 500 / 60)
    assert m.power_total_w_max == 1030.0 + 2000 + 3500  # the spike second, not the per-phase maxima added
    assert m.energy_wh == pytest.approx(600.0)  # from the sample before the minute to its last one
    assert m.temperature_c_max == pytest.approx(35.9)


def test_energy_survives_a_pilot_restart_inside_a_minute(storage: Storage) -> None:
    for i, wh in enumerate([500.0, 510.0, 520.0, 4.0, 14.0]):  # the counter restarts from 0 at i=3
        storage.telemetry.add(sample(T0 + i, energy_wh=wh))
    storage.telemetry.add(sample(T0 + 60, energy_wh=20.0))
    storage.telemetry.flush()
    [m] = storage.history(1, T0, T0 + 60, "minute").points
    assert m.energy_wh == pytest.approx(10 + 10 + 4 + 10)


def test_a_late_sample_reopens_its_minute(storage: Storage) -> None:
    for i in range(0, 61, 2):
        storage.telemetry.add(sample(T0 + i, power_w=(100.0, 0.0, 0.0)))
    storage.telemetry.flush()
    assert storage.history(1, T0, T0 + 60, "minute").points[0].n == 30
    storage.telemetry.add(sample(T0 + 1, power_w=(3100.0, 0.0, 0.0)))  # arrives after the minute closed
    storage.telemetry.flush()
    [m] = storage.history(1, T0, T0 + 60, "minute").points
    assert (m.n, m.power_w_max[0], m.power_w_avg[0]) == (31, 3100.0, pytest.approx(6100 / 31))


def test_roll_up_closes_the_minute_of_a_station_gone_quiet(storage: Storage) -> None:
    for i in range(10):
        storage.telemetry.add(sample(T0 + i))
    storage.telemetry.flush()
    storage.telemetry.roll_up(T0 + 59)
    assert storage.history(1, T0, T0 + 60, "minute").points == []
    storage.telemetry.roll_up(T0 + 60)
    assert [m.n for m in storage.history(1, T0, T0 + 60, "minute").points] == [10]
    assert [h.n for h in storage.history(1, T0, T0 + 60, "hour").points] == [10]


def test_an_empty_database_answers_with_nothing(storage: Storage) -> None:
    assert storage.history(None, T0, T0 + 365 * DAY).points == []
    assert storage.energy_per_day(None, T0, T0 + DAY) == []
    assert storage.purge(T0).raw_rows == 0


def test_rollups_resume_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    with Storage(path) as s:
        for i in range(90):
            s.telemetry.add(sample(T0 + i, energy_wh=float(i)))
        s.telemetry.flush()
        assert len(s.history(1, T0, T0 + 120, "minute").points) == 1
    with Storage(path) as s:  # the open minute [T0+60, T0+120) was on disk only as raw rows
        s.telemetry.add(sample(T0 + 120, energy_wh=120.0))
        s.telemetry.flush()
        minutes = s.history(1, T0, T0 + 120, "minute").points
    # the first minute has no step before its first sample
    assert [(m.t, m.n, m.energy_wh) for m in minutes] == [(T0, 60, 59.0), (T0 + 60, 30, 30.0)]


def test_resolution_follows_the_range(storage: Storage) -> None:
    charge(storage, T0, 3 * 3600 + 1, stations=(1,))
    short = storage.history(1, T0, T0 + 1800)
    assert (short.resolution, short.bucket_s, len(short.points)) == ("raw", 1, 1800)
    three_hours = storage.history(1, T0, T0 + 3 * 3600)
    assert (three_hours.resolution, len(three_hours.points)) == ("minute", 180)
    assert storage.history(1, T0, T0 + 3 * 3600, max_points=100).resolution == "hour"
    year = storage.history(1, T0 - 365 * DAY, T0 + 3 * 3600)
    assert year.resolution == "day" and [p.n for p in year.points] == [6360, 4440]  # UTC days: T0 is 22:14

    # every resolution accounts the same energy (the first sample has no step before it)
    expected_wh = (3 * 3600 - 1) * 11040 / 3600
    for resolution in ("raw", "minute", "hour", "day"):
        points = storage.history(1, T0, T0 + 3 * 3600, resolution, max_points=20_000).points
        assert sum(p.energy_wh for p in points) == pytest.approx(expected_wh), resolution
    hours = storage.history(1, T0, T0 + 3 * 3600, "hour").points
    assert [p.n for p in hours] == [2760, 3600, 3600, 840]
    assert all(p.power_total_w_avg == pytest.approx(11040.0) for p in hours)


def test_a_too_fine_resolution_is_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="raw resolution gives 86400 points.*use minute"):
        storage.history(1, T0, T0 + DAY, "raw")
    with pytest.raises(ValueError, match="resolution must be one of"):
        storage.history(1, T0, T0 + 60, "weekly")
    with pytest.raises(ValueError, match="end .* must be after start"):
        storage.history(1, T0, T0, "raw")


def test_energy_per_local_day(storage: Storage) -> None:
    start = T0 + 6360  # 00:00 UTC on 15 Nov 2023
    charge(storage, start - 1800, 3601, stations=(1,), watts=3600.0)  # 23:30 to 00:30 UTC, 1 Wh a second
    by_utc = storage.energy_per_day(1, start - DAY, start + DAY)
    assert [(d.day.isoformat(), round(d.energy_kwh, 3)) for d in by_utc] == [("2023-11-14", 1.799), ("2023-11-15", 1.8)]
    berlin = storage.energy_per_day(None, start - DAY, start + DAY, ZoneInfo("Europe/Berlin"))  # UTC+1
    assert [(d.day.isoformat(), round(d.energy_kwh, 3)) for d in berlin] == [("2023-11-15", 3.599)]
    with pytest.raises(ValueError, match="tz must be a time zone"):
        storage.energy_per_day(None, start - DAY, start + DAY, "Europe/Berlin")  # type: ignore[arg-type]


def test_purge_drops_old_raw_rows_and_keeps_rollups(storage: Storage) -> None:
    charge(storage, T0, 600)
    charge(storage, T0 + 40 * DAY, 120)
    report = storage.purge(T0 + 40 * DAY + 120)
    assert report.raw_rows == 2 * 600
    assert storage.history(None, T0, T0 + 600, "raw").points == []
    minutes = storage.history(None, T0, T0 + 600, "minute").points
    assert len(minutes) == 20 and sum(m.n for m in minutes) == 1200  # the last minute was rolled before the purge
    assert len(storage.history(None, T0 + 40 * DAY, T0 + 40 * DAY + 120, "raw").points) == 240

    storage.settings.set(RAW_RETENTION_DAYS, 1, T0)
    assert storage.purge(T0 + 42 * DAY).raw_rows == 240


def test_bad_samples_are_refused_before_the_database(storage: Storage) -> None:
    bad: list[tuple[dict[str, Any], str]] = [
        ({"t": "now"}, "t must be a number"), ({"t": float("nan")}, "t must be finite"),
        ({"station": 0}, "station must be >= 1"), ({"station": True}, "station must be an integer"),
        ({"state": "G"}, "state must be one of"), ({"pilot": "X3"}, "pilot must be one of"),
        ({"current_a": (1.0, 2.0)}, "current_a must be three numbers"),
        ({"power_w": (1.0, "2", 3.0)}, r"power_w\[1\] must be a number"),
        ({"energy_wh": -1.0}, "energy_wh must be >= 0"),
    ]
    for overrides, message in bad:
        with pytest.raises(ValueError, match=message):
            sample(**{"t": T0, **overrides})
    with pytest.raises(ValueError, match="expected a TelemetrySample"):
        storage.telemetry.add({"t": T0})  # type: ignore[arg-type]
    assert storage.telemetry.pending == 0


def test_a_failed_flush_keeps_the_samples(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as s:
        s.telemetry.add(sample(T0))
        blocker = sqlite3.connect(tmp_path / "evse.db", timeout=0)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
        s._g._db.execute("PRAGMA busy_timeout=50")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            s.telemetry.flush()
        blocker.rollback()
        blocker.close()
        assert s.telemetry.pending == 1
        assert s.telemetry.flush() == 1


def test_two_threads_share_one_storage(tmp_path: Path) -> None:
    """The event loop writes events while a background thread flushes telemetry."""
    errors: list[BaseException] = []

    with Storage(tmp_path / "evse.db") as s:
        def writer() -> None:
            try:
                for i in range(300):
                    s.telemetry.add(sample(T0 + i))
                    s.telemetry.flush()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        for i in range(300):
            s.events.add(T0 + i, "decision", f"tick {i}")
        thread.join()
        assert errors == []
        assert s.events.list(limit=1).total == 300
        assert len(s.history(1, T0, T0 + 300, "raw").points) == 300


def test_pragmas(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as s:
        db = s._g._db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        s.telemetry.add(sample(T0))
        s.telemetry.flush()  # commits with FULL, then back to NORMAL
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_an_idle_flush_makes_other_writes_durable(tmp_path: Path) -> None:
    """With no telemetry to carry an fsync, flush() checkpoints: an ordinary (not at once durable)
    write such as a setting reaches the main file."""
    path = tmp_path / "evse.db"
    with Storage(path) as s:
        s.settings.set_value("note", "marker-7f3a: waiting for cheap hours", T0)
        assert b"marker-7f3a" not in path.read_bytes()  # only in the WAL so far
        assert s.telemetry.flush() == 0
        assert b"marker-7f3a" in path.read_bytes()


# ---------------------------------------------------------------- sessions


def test_session_lifecycle_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    with Storage(path) as s:
        sid = s.sessions.open(1, T0, "solar")
        s.sessions.update(sid, 3.5, 7200.0, 1.05)
        other = s.sessions.open(2, T0 + 10, "on")
        with pytest.raises(ValueError, match="station 1 already has open session"):
            s.sessions.open(1, T0 + 20, "on")
    with Storage(path) as s:  # a restart
        resumed = s.sessions.open_session(1)
        assert resumed is not None
        assert (resumed.id, resumed.mode, resumed.energy_kwh, resumed.cost) == (sid, "solar", 3.5, 1.05)
        s.sessions.update(sid, 7.25, 11000.0, 2.2)
        s.sessions.close(sid, T0 + 3600)
        assert s.sessions.open_session(1) is None
        closed = s.sessions.get(sid)
        assert (closed.end_t, closed.energy_kwh, closed.peak_power_w) == (T0 + 3600, 7.25, 11000.0)
        assert not closed.is_open
        assert s.sessions.open_session(2) == s.sessions.get(other)
        with pytest.raises(ValueError, match="already closed"):
            s.sessions.close(sid, T0 + 4000)
        with pytest.raises(ValueError, match="before the session's start"):
            s.sessions.close(other, T0)
        with pytest.raises(NotFound):
            s.sessions.update(999, 1.0, 1.0)


def test_session_listing_filters_and_pages(storage: Storage) -> None:
    for k in range(7):
        sid = storage.sessions.open(1 + k % 2, T0 + k * DAY, "on")
        storage.sessions.close(sid, T0 + k * DAY + 3600)
    page = storage.sessions.list(limit=3)
    assert page.total == 7 and [s.start_t for s in page.items] == [T0 + 6 * DAY, T0 + 5 * DAY, T0 + 4 * DAY]
    assert [s.start_t for s in storage.sessions.list(limit=3, offset=6).items] == [T0]
    station2 = storage.sessions.list(station=2)
    assert station2.total == 3 and {s.station for s in station2.items} == {2}
    window = storage.sessions.list(start=T0 + DAY, end=T0 + 3 * DAY)
    assert [s.start_t for s in window.items] == [T0 + 2 * DAY, T0 + DAY]
    with pytest.raises(ValueError, match="limit must be >= 1"):
        storage.sessions.list(limit=0)


def test_session_csv_export(storage: Storage) -> None:
    a = storage.sessions.open(1, T0, "low_cost")
    storage.sessions.update(a, 12.3456, 10950.0, 3.456)
    storage.sessions.close(a, T0 + 5400)
    b = storage.sessions.open(2, T0 + 60, "on")
    storage.sessions.update(b, 1.0, 3680.0)
    lines = list(storage.sessions.csv_lines())
    assert lines == [
        "id,station,start,end,energy_kwh,peak_kw,cost,mode\r\n",
        f"{a},1,2023-11-14T22:14:00+00:00,2023-11-14T23:44:00+00:00,12.346,10.95,3.46,low_cost\r\n",
        f"{b},2,2023-11-14T22:15:00+00:00,,1.0,3.68,,on\r\n",
    ]
    assert len(list(storage.sessions.csv_lines(station=2))) == 2
    berlin = list(storage.sessions.csv_lines(station=1, tz=ZoneInfo("Europe/Berlin")))[1]
    assert ",2023-11-14T23:14:00+01:00,2023-11-15T00:44:00+01:00," in berlin


def test_session_csv_pages_through_many_rows(storage: Storage) -> None:
    for k in range(1203):
        storage.sessions.close(storage.sessions.open(1, T0 + k * 10, "on"), T0 + k * 10 + 5)
    lines = list(storage.sessions.csv_lines())
    assert len(lines) == 1204 and lines[-1].startswith("1203,1,")


def test_bad_session_input(storage: Storage) -> None:
    with pytest.raises(ValueError, match="mode must be lower-case"):
        storage.sessions.open(1, T0, "Turbo Mode")
    with pytest.raises(ValueError, match="start_t must be a number"):
        storage.sessions.open(1, "yesterday", "on")
    sid = storage.sessions.open(1, T0, "on")
    with pytest.raises(ValueError, match="energy_kwh must be >= 0"):
        storage.sessions.update(sid, -1.0, 0.0)
    with pytest.raises(ValueError, match="session id must be an integer"):
        storage.sessions.get("1")
    assert storage.sessions.get(sid).energy_kwh == 0.0


# ---------------------------------------------------------------- migrations


def test_upgrade_from_v1_to_latest(tmp_path: Path) -> None:
    """A v1 database (minute rollups, no hour table) gains hour rollups built from its minutes,
    equal to what the current code keeps incrementally."""
    with Storage(tmp_path / "live.db") as live:
        charge(live, T0, 2 * 3600 + 1)
        minutes = list(live._g._db["telemetry_minute"].rows)
        expected = live.history(None, T0, T0 + 2 * 3600, "hour").points

    old = Database(sqlite3.connect(tmp_path / "old.db"))
    assert migrate(old, target=1) == 1
    old.table("telemetry_minute").insert_all(minutes)
    old.table("sessions").insert({"station": 1, "start_t": T0, "mode": "on"})
    old.close()

    with Storage(tmp_path / "old.db") as s:
        assert s.schema_version == LATEST == 4
        assert s.history(None, T0, T0 + 2 * 3600, "hour").points == expected
        assert len(expected) == 6 and s.sessions.open_session(1) == s.sessions.get(1)


def test_upgrade_from_v2_rekeys_raw_telemetry_and_shrinks_pages(tmp_path: Path) -> None:
    """v3 keys raw rows by time first, in a rowid table; the file is rewritten with small pages
    (SD-card wear)."""
    with Storage(tmp_path / "live.db") as live:
        charge(live, T0, 600)
        raw = [{c: v for c, v in row.items() if c != "k"} for row in live._g._db["telemetry_raw"].rows]
        expected = live.history(None, T0, T0 + 600, "raw", max_points=10_000).points

    old = Database(sqlite3.connect(tmp_path / "old.db"))
    old.execute("PRAGMA page_size=4096")
    old.enable_wal()
    assert migrate(old, target=2) == 2
    old.table("telemetry_raw").insert_all(raw)
    old.close()

    with Storage(tmp_path / "old.db") as s:
        db = s._g._db
        assert s.schema_version == LATEST
        assert db.execute("PRAGMA page_size").fetchone()[0] == 512
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db["telemetry_raw"].pks == ["k"]
        assert db.execute("SELECT MIN(k), MAX(k) FROM telemetry_raw").fetchone() == (
            round(T0 * 1000) * 100 + 1, round((T0 + 599) * 1000) * 100 + 2)
        assert s.history(None, T0, T0 + 600, "raw", max_points=10_000).points == expected
        assert len(expected) == 1200


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with Storage(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={LATEST + 1}")
    conn.close()
    with pytest.raises(SchemaError, match=f"schema version {LATEST + 1}, newer than this software"):
        Storage(path)


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.close()
    with pytest.raises(SchemaError, match="not this appliance's database"):
        Storage(path)
