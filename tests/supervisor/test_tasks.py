"""The reconnect backoff the MQTT and OCPP links share."""

from __future__ import annotations

from appliance.supervisor.tasks import Backoff


def test_pauses_double_up_to_the_most_and_start_over_after_a_reset() -> None:
    backoff = Backoff(1.0, 10.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert [backoff.next() for _ in range(2)] == [1.0, 2.0]
