"""Transactions per connector: started when a car asks for power (free vending with the
configured idTag) or by RemoteStartTransaction, stopped when the car leaves or the central
system says so. Every message goes through the durable outbox, so none is lost offline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.supervisor.live import LiveStation
from appliance.supervisor.ocpp.meter_values import timestamp
from appliance.supervisor.storage.ocpp_outbox import OcppOutbox

REMOTE_START_TIMEOUT_S = 60.0  # ConnectionTimeOut's default: a remote start waits this long for a car


@dataclass
class Running:
    ref: int
    start_t: float
    id_tag: str


@dataclass
class RemoteStart:
    id_tag: str
    until: float


class Transactions:
    """`end_values`: the transactionData of a StopTransaction (StopTxnSampledData at the end)."""

    def __init__(self, outbox: OcppOutbox, end_values: Callable[[LiveStation, float], list[dict[str, Any]]]) -> None:
        self.outbox = outbox
        self.end_values = end_values
        self.running: dict[int, Running] = {t.connector: Running(t.ref, t.start_t, t.id_tag)
                                            for t in outbox.open_transactions()}
        self.finished: set[int] = set()  # a transaction ended during this plug-in
        self.held: set[int] = set()  # stopped by the central system: no new one until the car leaves
        self.remote: dict[int, RemoteStart] = {}

    def transaction_id(self, connector: int) -> int | None:
        """The central system's id of the connector's running transaction, once it has assigned one."""
        running = self.running.get(connector)
        tx = None if running is None else self.outbox.transaction(running.ref)
        return None if tx is None else tx.transaction_id

    def connector_of(self, transaction_id: int) -> int | None:
        return next((c for c in self.running if self.transaction_id(c) == transaction_id), None)

    def tx_start(self, connector: int) -> float | None:
        running = self.running.get(connector)
        return None if running is None else running.start_t

    def remote_start(self, connector: int, id_tag: str, now: float, timeout_s: float) -> None:
        self.held.discard(connector)
        self.remote[connector] = RemoteStart(id_tag, now + timeout_s)

    def update(self, connector: int, live: LiveStation, available: bool, id_tag: str, now: float,
               authorized: Callable[[int], bool] | None = None) -> str | None:
        """Start or stop on what the car does; returns "started", "stopped" or None. A local start
        (not a RemoteStart) is asked `authorized(connector)` once it is due, and waits while False."""
        if not live.plugged:
            self.finished.discard(connector)
            self.held.discard(connector)
            if connector in self.running:
                self.stop(connector, live, "EVDisconnected", now)
                return "stopped"
        remote = self.remote.get(connector)
        if remote is not None and now >= remote.until:
            del self.remote[connector]
            remote = None
        wants = remote is not None or live.state in ("C", "D")
        if (connector in self.running or not live.plugged or not available or connector in self.held or not wants
                or live.blocking_faults):
            return None
        if remote is None and authorized is not None and not authorized(connector):
            return None
        self.remote.pop(connector, None)
        tag = remote.id_tag if remote is not None else id_tag
        meter = int(round(live.energy_wh))
        payload = {"connectorId": connector, "idTag": tag, "meterStart": meter, "timestamp": timestamp(now)}
        ref = self.outbox.start(connector, tag, meter, now, payload)
        self.running[connector] = Running(ref, now, tag)
        self.finished.discard(connector)
        return "started"

    def stop(self, connector: int, live: LiveStation, reason: str, now: float) -> bool:
        """StopTransaction with the meter reading; False when no transaction runs there."""
        running = self.running.pop(connector, None)
        if running is None:
            return False
        payload: dict[str, Any] = {"idTag": running.id_tag, "meterStop": int(round(live.energy_wh)),
                                   "timestamp": timestamp(now), "reason": reason}
        data = self.end_values(live, now)
        if data:
            payload["transactionData"] = data
        self.outbox.add("StopTransaction", payload, running.ref, now, stop=True)
        if live.plugged:
            self.finished.add(connector)
        if reason in ("Remote", "DeAuthorized"):
            self.held.add(connector)
        return True

    def connector_of_ref(self, ref: int) -> int | None:
        return next((c for c, running in self.running.items() if running.ref == ref), None)

    def meter_values(self, connector: int, value: dict[str, Any], now: float) -> bool:
        """A transaction's MeterValues into the outbox; False without a running transaction."""
        running = self.running.get(connector)
        if running is None:
            return False
        self.outbox.add("MeterValues", {"connectorId": connector, "meterValue": [value]}, running.ref, now)
        return True
