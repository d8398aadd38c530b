#!/bin/sh
# Runs inside the test image (installed there by `image/boot-test.sh --powercut` only), on the
# boot after the guest was killed mid-write, before the supervisor opens its database: reports on
# the serial console whether the database opens and passes `PRAGMA integrity_check`, and the time
# of the last telemetry row it kept, for the host to compare with the time of the cut.
# The paths can be overridden (EVSE_POWERCUT_*) so that the suite runs this very script.
marker=${EVSE_POWERCUT_MARKER:-/var/tmp/evse-powercut}
db=${EVSE_POWERCUT_DB:-/var/lib/evse/evse.db}
console=${EVSE_POWERCUT_CONSOLE:-/dev/console}
python=${EVSE_POWERCUT_PYTHON:-/usr/lib/evse/evse-python}
say() { echo "EVSE-BOOTTEST $*" >> "$console"; }
[ "$(cat "$marker" 2>/dev/null)" = check ] || exit 0
[ -f "$db" ] || { say "POWERCUT-CHECK no database at $db"; exit 0; }
result=$("$python" -I -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
check = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
last, rows = db.execute("SELECT max(t), count(*) FROM telemetry_raw").fetchone()
events = db.execute("SELECT count(*) FROM events").fetchone()[0]
print(f"integrity {check}; last telemetry t={last!r}; telemetry rows {rows}; events {events}")' "$db" 2>&1 | tail -1)
say "POWERCUT-CHECK $result"
