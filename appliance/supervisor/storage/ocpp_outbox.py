"""OCPP transaction messages that must reach the central system: StartTransaction,
StopTransaction and a transaction's MeterValues, durable at once and sent in the order they
were made, each exactly once (a row goes when the central system has answered it).

A transaction is known here by a local `ref` from the moment it starts; the central system's
transactionId arrives with the answer to StartTransaction, maybe much later (offline), and
the messages after it carry the id it assigned."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import appliance.supervisor.storage.validate as validate
from appliance.supervisor.storage.database import Guarded, insert

Action = Literal["StartTransaction", "StopTransaction", "MeterValues"]
ACTIONS = ("StartTransaction", "StopTransaction", "MeterValues")


@dataclass(frozen=True)
class Transaction:
    ref: int
    connector: int
    id_tag: str
    meter_start: int
    start_t: float
    transaction_id: int | None  # None until the central system has answered StartTransaction


@dataclass(frozen=True)
class OutboxItem:
    id: int
    t: float
    action: Action
    payload: dict[str, Any]
    tx_ref: int


class OcppOutbox:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def start(self, connector: int, id_tag: str, meter_start: int, t: float, payload: dict[str, Any]) -> int:
        """A new transaction and its StartTransaction, in one durable commit; returns its ref."""
        row = {"connector": validate.integer("connector", connector), "id_tag": str(id_tag),
               "meter_start": validate.integer("meter_start", meter_start), "start_t": validate.timestamp("t", t)}
        with self._g.write(durable=True) as db:
            ref = insert(db, "ocpp_transactions", row)
            self._add(db, "StartTransaction", payload, ref, t)
        return ref

    def add(self, action: Action, payload: dict[str, Any], tx_ref: int, t: float, stop: bool = False) -> None:
        """A later message of transaction `tx_ref`; `stop` marks the transaction as ended."""
        with self._g.write(durable=True) as db:
            self._add(db, action, payload, tx_ref, t)
            if stop:
                db.execute("UPDATE ocpp_transactions SET stopped = 1 WHERE ref = ?", [tx_ref])

    @staticmethod
    def _add(db: Any, action: Action, payload: dict[str, Any], tx_ref: int, t: float) -> None:
        if action not in ACTIONS:
            raise ValueError(f"not a transaction message: {action}")
        insert(db, "ocpp_outbox", {"t": validate.timestamp("t", t), "action": action,
                                   "payload": validate.json_text("payload", payload), "tx_ref": tx_ref})

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """The oldest messages not answered yet, in the order they were made."""
        with self._g.read() as db:
            rows = db.execute("SELECT id, t, action, payload, tx_ref FROM ocpp_outbox ORDER BY id LIMIT ?",
                              [limit]).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), r[4]) for r in rows]

    def count(self) -> int:
        with self._g.read() as db:
            return int(db.execute("SELECT COUNT(*) FROM ocpp_outbox").fetchone()[0])

    def delivered(self, item_id: int, transaction_id: int | None = None) -> None:
        """The central system answered message `item_id`; with the transactionId it assigned
        when that message was the StartTransaction."""
        with self._g.write(durable=True) as db:
            if transaction_id is not None:
                db.execute("UPDATE ocpp_transactions SET transaction_id = ? WHERE ref = "
                           "(SELECT tx_ref FROM ocpp_outbox WHERE id = ?)", [transaction_id, item_id])
            db.execute("DELETE FROM ocpp_outbox WHERE id = ?", [item_id])
            db.execute("DELETE FROM ocpp_transactions WHERE stopped = 1 AND ref NOT IN "
                       "(SELECT tx_ref FROM ocpp_outbox)")

    def transaction(self, ref: int) -> Transaction | None:
        with self._g.read() as db:
            row = db.execute("SELECT ref, connector, id_tag, meter_start, start_t, transaction_id "
                             "FROM ocpp_transactions WHERE ref = ?", [ref]).fetchone()
        return None if row is None else Transaction(*row)

    def open_transactions(self) -> list[Transaction]:
        """Transactions not stopped yet, e.g. to carry on after a restart."""
        with self._g.read() as db:
            rows = db.execute("SELECT ref, connector, id_tag, meter_start, start_t, transaction_id "
                              "FROM ocpp_transactions WHERE stopped = 0 ORDER BY ref").fetchall()
        return [Transaction(*row) for row in rows]
