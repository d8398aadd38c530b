"""The outbox: durable, in order, each message once, with the id the central system assigns."""

from __future__ import annotations

from pathlib import Path

from appliance.supervisor.storage import Storage

T0 = 1_780_000_000.0


def test_messages_come_back_in_order_and_go_once_answered(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as storage:
        outbox = storage.ocpp
        ref = outbox.start(1, "tag", 100, T0, {"connectorId": 1, "idTag": "tag", "meterStart": 100})
        for i in range(3):
            outbox.add("MeterValues", {"connectorId": 1, "n": i}, ref, T0 + i + 1)
        outbox.add("StopTransaction", {"meterStop": 500}, ref, T0 + 10, stop=True)
        second = outbox.start(1, "tag", 500, T0 + 20, {"connectorId": 1})
        assert [t.ref for t in outbox.open_transactions()] == [second]
    with Storage(tmp_path / "evse.db") as storage:  # a restart keeps every message and the order
        outbox = storage.ocpp
        pending = outbox.pending()
        assert [p.action for p in pending] == ["StartTransaction", "MeterValues", "MeterValues", "MeterValues",
                                               "StopTransaction", "StartTransaction"]
        assert [p.payload.get("n") for p in pending[1:4]] == [0, 1, 2]
        outbox.delivered(pending[0].id, transaction_id=77)
        tx = outbox.transaction(ref)
        assert tx is not None and tx.transaction_id == 77
        for item in pending[1:5]:
            outbox.delivered(item.id)
        assert outbox.transaction(ref) is None  # stopped and all sent: forgotten
        assert outbox.count() == 1 and outbox.pending()[0].tx_ref == second
        outbox.delivered(pending[5].id, transaction_id=78)
        assert outbox.count() == 0 and outbox.transaction(second).transaction_id == 78  # type: ignore[union-attr]
