"""The broker link without a broker: it keeps trying, says why, and never makes a publisher wait."""

from __future__ import annotations

import asyncio
import time

from appliance.supervisor.mqtt.link import QUEUE_SIZE, LinkConfig, MqttLink
from appliance.supervisor.mqtt.settings import parse_url
from tests.mqtt.conftest import free_port


async def _nothing(topic: str, payload: bytes) -> None:
    raise AssertionError("no message can arrive without a broker")


def test_no_broker_means_waiting_with_a_reason_and_publishing_never_blocks() -> None:
    async def run() -> None:
        config = LinkConfig(parse_url(f"mqtt://127.0.0.1:{free_port()}"), "evse/t/availability", ("evse/t/#",), "t")
        link = MqttLink(config, lambda: None, _nothing)
        link.start()
        deadline = time.monotonic() + 10
        while link.status.last_error is None:
            assert time.monotonic() < deadline, "the failed connection was never reported"
            await asyncio.sleep(0.05)
        assert link.status.state in ("waiting", "connecting") and link.status.connects == 0
        started = time.monotonic()
        for i in range(QUEUE_SIZE + 5):
            link.publish(f"evse/t/{i}", "x")
        assert time.monotonic() - started < 0.5
        assert link.status.dropped == 5 and link.status.published == 0
        await link.stop()
        assert link.status.state == "stopped"

    asyncio.run(run())
