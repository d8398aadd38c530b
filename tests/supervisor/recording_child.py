"""A recorder writing two cars' charging to a database as fast as it can, for the power-cut test
to kill. It prints a line for each record once the call that stores it has returned:

    tel T             telemetry of both stations up to simulated time T handed to the recorder
    event N / fault N / audit N   the N-th of each stored
    open ID / closed ID           a session opened or closed

Usage: python -m tests.supervisor.recording_child DB SPOOL
"""

from __future__ import annotations

import sys
from pathlib import Path

from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.recorder import StorageRecorder
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from tests.pilot_messages import event, hello, telemetry
from tests.supervisor.two_cars import T0, snapshot

UNPLUG_EVERY = 45  # station 2's car leaves and comes back, so sessions open and close


def main(db: Path, spool: Path) -> None:
    storage = Storage(db, spool=spool, exclusive=True)  # as the supervisor opens it
    recorder = StorageRecorder(storage)
    core = SupervisorCore(SiteSettings(), recorder)
    core.on_connected(hello(32.0), T0)
    say = sys.stdout
    i = 0
    while True:
        now = T0 + 1 + i
        if i % UNPLUG_EVERY == 0:
            state = "A" if (i // UNPLUG_EVERY) % 2 else "B"
            before = dict(core.sessions.open)
            core.on_pilot_message(event("state", now, station=2, state=state), now)
            if state == "A" and 2 in before:
                say.write(f"closed {before[2].id}\n")
        if i == 0 or (i % UNPLUG_EVERY == 0 and (i // UNPLUG_EVERY) % 2 == 0):
            for sid in (1, 2):
                core.on_pilot_message(event("state", now, station=sid, state="B"), now)
                opened = core.sessions.open.get(sid)
                if opened is not None and opened.start == now:
                    say.write(f"open {opened.id}\n")
        snaps = {f"s{s}": snapshot(i, s) for s in (1, 2) if s == 1 or 2 in core.sessions.open}
        core.on_pilot_message(telemetry(32.0, now, **snaps), now)
        core.cycle(now)
        recorder.tick(now)
        say.write(f"tel {now}\n")
        if i % 3 == 0:
            recorder.event(now, "decision", 1, f"event {i}")
            say.write(f"event {i}\n")
        if i % 7 == 0:
            recorder.fault(now, 1, "rcd", i % 14 == 0, f"fault {i}")
            say.write(f"fault {i}\n")
        if i % 5 == 0:
            storage.audit.add(now, "owner", f"audit {i}")
            say.write(f"audit {i}\n")
        say.flush()
        i += 1


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
