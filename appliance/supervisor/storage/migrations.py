"""Versioned schema: PRAGMA user_version counts the migrations applied.

Each migration is frozen once released: never edit one, append the next. Opening an older
database runs the missing ones, each in its own transaction with its version bump, so a power
cut mid-upgrade leaves the database at the last complete version. A database newer than this
code is refused rather than half-understood.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from appliance.errors import ApplianceError


class SchemaError(ApplianceError, RuntimeError):
    """The file is not a database this code can use as it is."""


_ROLLUP_COLUMNS = """
    station INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,
    state_min TEXT NOT NULL, state_max TEXT NOT NULL, offered_a_avg REAL, offered_a_max REAL,
    current_a_avg_l1 REAL, current_a_avg_l2 REAL, current_a_avg_l3 REAL,
    voltage_v_avg_l1 REAL, voltage_v_avg_l2 REAL, voltage_v_avg_l3 REAL,
    power_w_avg_l1 REAL, power_w_avg_l2 REAL, power_w_avg_l3 REAL,
    power_w_max_l1 REAL, power_w_max_l2 REAL, power_w_max_l3 REAL,
    power_total_w_avg REAL, power_total_w_max REAL, energy_wh REAL NOT NULL, temperature_c_max REAL,
    PRIMARY KEY (station, t)"""


def _v1(db: Database) -> None:
    """Everything the first release stores."""
    phases = ", ".join(f"{q}_l{k} REAL NOT NULL" for q in ("current_a", "voltage_v", "power_w") for k in (1, 2, 3))
    db.executescript(f"""
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_t REAL NOT NULL);

        CREATE TABLE telemetry_raw (
            station INTEGER NOT NULL, t REAL NOT NULL, state TEXT NOT NULL, pilot TEXT NOT NULL,
            offered_a REAL NOT NULL, {phases}, energy_wh REAL NOT NULL, temperature_c REAL,
            PRIMARY KEY (station, t)
        ) WITHOUT ROWID;

        CREATE TABLE telemetry_minute ({_ROLLUP_COLUMNS}) WITHOUT ROWID;

        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY, station INTEGER NOT NULL, start_t REAL NOT NULL, end_t REAL,
            mode TEXT NOT NULL, energy_kwh REAL NOT NULL DEFAULT 0, peak_power_w REAL NOT NULL DEFAULT 0,
            cost REAL, CHECK (end_t IS NULL OR end_t >= start_t)
        );
        CREATE UNIQUE INDEX sessions_open ON sessions (station) WHERE end_t IS NULL;
        CREATE INDEX sessions_start ON sessions (start_t);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY, t REAL NOT NULL, station INTEGER, kind TEXT NOT NULL,
            message TEXT NOT NULL, data TEXT
        );
        CREATE INDEX events_t ON events (t);

        CREATE TABLE faults (
            id INTEGER PRIMARY KEY, t REAL NOT NULL, station INTEGER NOT NULL, code TEXT NOT NULL,
            active INTEGER NOT NULL CHECK (active IN (0, 1)), message TEXT NOT NULL
        );
        CREATE INDEX faults_t ON faults (t);
        CREATE INDEX faults_code ON faults (station, code, id);

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY, t REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            target TEXT, details TEXT
        );
        CREATE INDEX audit_log_t ON audit_log (t);

        CREATE TABLE pilot_boots (id INTEGER PRIMARY KEY, key TEXT);
        CREATE TABLE pilot_logs (
            boot INTEGER NOT NULL REFERENCES pilot_boots (id), seq INTEGER NOT NULL, t REAL NOT NULL,
            level TEXT NOT NULL, station INTEGER, message TEXT NOT NULL,
            PRIMARY KEY (boot, seq)
        ) WITHOUT ROWID;

        CREATE TABLE prices (start REAL PRIMARY KEY, end REAL NOT NULL, price REAL NOT NULL, CHECK (end > start));

        CREATE TABLE admin (
            id INTEGER PRIMARY KEY CHECK (id = 1), password_hash TEXT NOT NULL, set_t REAL NOT NULL
        );
        CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
            created_t REAL NOT NULL, last_used_t REAL, revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
        );
        CREATE TABLE browser_sessions (
            id_hash TEXT PRIMARY KEY, csrf_token TEXT NOT NULL, created_t REAL NOT NULL, expires_t REAL NOT NULL
        );
        CREATE INDEX browser_sessions_expires ON browser_sessions (expires_t);
    """)


def _v2(db: Database) -> None:
    """Hour rollups, so a year of history reads ~9,000 rows per station instead of ~525,000;
    built here from the minute rollups already stored."""
    averaged = ["offered_a_avg", *(f"{q}_l{k}" for q in ("current_a_avg", "voltage_v_avg", "power_w_avg")
                                   for k in (1, 2, 3)), "power_total_w_avg"]
    maxima = ["offered_a_max", "power_w_max_l1", "power_w_max_l2", "power_w_max_l3", "power_total_w_max",
              "temperature_c_max"]
    db.executescript(f"""
        CREATE TABLE telemetry_hour ({_ROLLUP_COLUMNS}) WITHOUT ROWID;
        INSERT INTO telemetry_hour (station, t, n, state_min, state_max, energy_wh, {", ".join(averaged + maxima)})
        SELECT station, CAST(t / 3600 AS INTEGER) * 3600, SUM(n), MIN(state_min), MAX(state_max), SUM(energy_wh),
               {", ".join([f"SUM({c} * n) / SUM(n)" for c in averaged] + [f"MAX({c})" for c in maxima])}
        FROM telemetry_minute GROUP BY station, CAST(t / 3600 AS INTEGER);
    """)


def _v3(db: Database) -> None:
    """Raw telemetry in a rowid table keyed by time (ms) and station (see `rollup.KEY_STATIONS`)
    instead of a WITHOUT ROWID table keyed by (station, t): a batch of both stations' samples
    lands side by side at the end of the table, and interior pages hold keys rather than whole
    rows, so a batch rewrites a few pages instead of a dozen (SD-card wear)."""
    phases = ", ".join(f"{q}_l{k} REAL NOT NULL" for q in ("current_a", "voltage_v", "power_w") for k in (1, 2, 3))
    columns = ", ".join(["station", "t", "state", "pilot", "offered_a",
                         *(f"{q}_l{k}" for q in ("current_a", "voltage_v", "power_w") for k in (1, 2, 3)),
                         "energy_wh", "temperature_c"])
    for statement in (
        "ALTER TABLE telemetry_raw RENAME TO telemetry_raw_v2",
        f"""CREATE TABLE telemetry_raw (
            k INTEGER PRIMARY KEY, station INTEGER NOT NULL, t REAL NOT NULL, state TEXT NOT NULL,
            pilot TEXT NOT NULL, offered_a REAL NOT NULL, {phases}, energy_wh REAL NOT NULL, temperature_c REAL)""",
        f"INSERT INTO telemetry_raw (k, {columns}) SELECT CAST(t * 1000 + 0.5 AS INTEGER) * 100 + station, "
        f"{columns} FROM telemetry_raw_v2 ORDER BY t, station",
        "DROP TABLE telemetry_raw_v2",
    ):
        db.execute(statement)


def _v4(db: Database) -> None:
    """OCPP: transactions as the central system knows them, and the ordered outbox of their
    messages that waits for the link (sent in id order, each row deleted once answered)."""
    db.executescript("""
        CREATE TABLE ocpp_transactions (
            ref INTEGER PRIMARY KEY, connector INTEGER NOT NULL, id_tag TEXT NOT NULL,
            meter_start INTEGER NOT NULL, start_t REAL NOT NULL, transaction_id INTEGER,
            stopped INTEGER NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1))
        );
        CREATE TABLE ocpp_outbox (
            id INTEGER PRIMARY KEY, t REAL NOT NULL, action TEXT NOT NULL, payload TEXT NOT NULL,
            tx_ref INTEGER NOT NULL REFERENCES ocpp_transactions (ref)
        );
    """)


MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3, _v4]
LATEST = len(MIGRATIONS)


def version(db: Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, target: int = LATEST) -> int:
    """Bring the schema up to `target` (the latest unless a test wants an old one); returns it."""
    current = version(db)
    if current > LATEST:
        raise SchemaError(f"the database has schema version {current}, newer than this software "
                          f"understands ({LATEST}); update the software or restore an older backup")
    if current == 0 and db.table_names():
        raise SchemaError("the file holds tables but no schema version: it is not this appliance's database")
    for number in range(current + 1, target + 1):
        with db.atomic():
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version={number}")
    return max(current, target)
