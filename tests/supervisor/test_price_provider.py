"""The configured price provider: both feed formats with real numbers, bad feeds kept out (the
prices known before stay, the event log says why), and a real HTTP server on 127.0.0.1 feeding
GET /prices and a low-cost station's decision through the API."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.api import persist
from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.policy import local_hhmm
from appliance.supervisor.price_provider import RETRY_S, FeedError, PriceProvider, parse
from appliance.supervisor.settings import SiteSettings, UrlPrices
from tests.pilot_messages import event
from tests.price_feed import PriceFeed
from tests.supervisor.conftest import API, TEST_OPTIONS

H = 3600.0
T0 = H * (time.time() // H)  # this hour: the core keeps only prices from yesterday on


def source(url: str = "http://feed.invalid/prices", **options: Any) -> UrlPrices:
    return UrlPrices(kind="url", url=url, **options)


def slot(start: float, end: float, price: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "price": price}


def market(start: float, end: float, per_mwh: Any, unit: str = "Eur/MWh") -> dict[str, Any]:
    return {"start_timestamp": int(start * 1000), "end_timestamp": int(end * 1000), "marketprice": per_mwh,
            "unit": unit}


def triples(prices: Any) -> list[tuple[float, float, float]]:
    return [(s.start, s.end, s.price) for s in prices]


def test_evse_format_is_taken_as_sent_in_time_order() -> None:
    body = json.dumps([slot(T0 + H, T0 + H + 900, 0.12), slot(T0, T0 + H, 0.31)]).encode()
    prices = parse(body, source(format="evse"))
    assert triples(prices.slots) == [(T0, T0 + H, 0.31), (T0 + H, T0 + H + 900, 0.12)]
    assert (prices.start, prices.end) == (T0, T0 + H + 900)


def test_market_prices_per_mwh_become_per_kwh_with_surcharge_and_factor() -> None:
    body = json.dumps({"object": "list", "url": "/de/v1/marketdata",
                       "data": [market(T0, T0 + H, 100.0), market(T0 + H, T0 + 2 * H, -20.5),
                                market(T0 + 2 * H, T0 + 2 * H + 900, 250)]}).encode()
    plain = parse(body, source(format="awattar"))
    assert triples(plain.slots) == [(T0, T0 + H, 0.1), (T0 + H, T0 + 2 * H, -0.0205),
                                    (T0 + 2 * H, T0 + 2 * H + 900, 0.25)]
    billed = parse(body, source(format="awattar", surcharge=0.2, factor=1.19))  # (market + fees) * VAT
    assert [s.price for s in billed.slots] == [pytest.approx(0.357), pytest.approx(0.213605), pytest.approx(0.5355)]


GOOD = {"evse": [slot(T0, T0 + H, 0.30), slot(T0 + H, T0 + 2 * H, 0.10)],
        "awattar": {"data": [market(T0, T0 + H, 300.0), market(T0 + H, T0 + 2 * H, 100.0)]}}


@pytest.mark.parametrize("form, payload, message", [
    ("evse", b"<html>503 Service Unavailable</html>", "not JSON"),
    ("evse", b"\xff\xfe\xfa", "not JSON"),
    ("evse", {"slots": GOOD["evse"]}, "expected a JSON list"),
    ("evse", [], "no price slots"),
    ("evse", ["0.30", "0.10"], "slots.0: Input should be a valid dictionary"),
    ("evse", [{"start": T0, "end": T0 + H}], "slots.0.price: Field required"),
    ("evse", [slot(T0, T0 + H, 0.3), slot(T0 + 1800, T0 + 5400, 0.2)], "overlap"),
    ("evse", [slot(T0, T0 + H, float("nan"))], "NaN is not a number"),
    ("evse", [slot(T0, T0 + H, float("inf"))], "Infinity is not a number"),
    ("evse", [slot(T0 + H, T0, 0.1)], "must be after its start"),
    ("evse", [slot(T0, T0 + H, "cheap")], "slots.0.price: Input should be a valid number"),
    ("evse", [slot(T0, T0 + H, 5000.0)], "less than or equal to 1000"),
    ("awattar", GOOD["evse"], "Input should be a valid dictionary"),
    ("awattar", {"data": "none"}, "data: Input should be a valid list"),
    ("awattar", {"data": []}, "no price slots"),
    ("awattar", {"data": [market(T0, T0 + H, 10.0, unit="ct/kWh")]}, "only Eur/MWh"),
    ("awattar", {"data": [market(T0, T0 + H, 1.0), market(T0, T0 + H, 2.0)]}, "overlap"),
])
def test_a_bad_feed_keeps_the_prices_and_says_why(ctx: AppContext, form: str, payload: Any, message: str) -> None:
    with PriceFeed() as feed:
        ctx.core.update_site(SiteSettings(price_source=source(feed.url, format=form)))
        provider = PriceProvider(ctx)
        feed.serve(GOOD[form])
        asyncio.run(provider.refresh())
        known = triples(ctx.storage.prices.slots(0, T0 + 10 * H))
        assert len(known) == 2 and ctx.core.prices == known

        feed.serve(payload)
        asyncio.run(provider.refresh())
    assert feed.requests == 2
    assert triples(ctx.storage.prices.slots(0, T0 + 10 * H)) == known and ctx.core.prices == known
    latest = ctx.storage.events.list(kind="prices").items[0]
    assert latest.message.startswith("price provider: ") and message in latest.message, latest.message
    assert latest.message.endswith("keeping the prices known before") and latest.data == {"host": "127.0.0.1"}
    status = provider.status
    assert message in (status.last_error or "") and status.slots == 2
    assert status.last_attempt is not None and status.last_success is not None
    assert status.next_attempt == pytest.approx(status.last_attempt + RETRY_S)


def test_feed_down_slow_or_unreachable_is_one_event_per_cause(ctx: AppContext) -> None:
    with PriceFeed() as feed:
        ctx.core.update_site(SiteSettings(price_source=source(feed.url)))
        provider = PriceProvider(ctx, timeout_s=0.5)
        feed.serve({"error": "maintenance"}, status=503)
        for _ in range(3):  # a feed that stays down: one event, not one per retry
            asyncio.run(provider.refresh())
        feed.serve(GOOD["evse"])
        feed.delay_s = 2.0
        started = time.monotonic()
        asyncio.run(provider.refresh())
        assert time.monotonic() - started < 1.8  # the provider's timeout, not the server's pace
        feed.delay_s = 0.0
        asyncio.run(provider.refresh())
    assert provider.status.last_error is None and provider.status.slots == 2
    with socket.socket() as s:  # a port nobody listens on any more
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/prices"
    ctx.core.update_site(SiteSettings(price_source=source(closed)))
    asyncio.run(provider.refresh())
    messages = [e.message for e in reversed(ctx.storage.events.list(kind="prices").items)]
    assert len(messages) == 4, messages
    assert "HTTP 503" in messages[0] and "timed out" in messages[1]
    assert messages[2].startswith("price provider: 2 slots from 127.0.0.1, until ")
    assert "cannot fetch" in messages[3] and "refused" in messages[3]
    assert triples(ctx.storage.prices.slots(0, T0 + 10 * H)) == [(T0, T0 + H, 0.30), (T0 + H, T0 + 2 * H, 0.10)]


def test_a_url_source_feeds_get_prices_and_the_low_cost_decision(client: TestClient, admin: dict[str, str],
                                                                  ctx: AppContext) -> None:
    now = ctx.clock()
    hour = 3600 * (now // 3600)
    assert client.put(f"{API}/site", json={"price_threshold": 0.2}, headers=admin).status_code == 200
    assert client.patch(f"{API}/stations/1", json={"mode": "low_cost"}, headers=admin).status_code == 200
    ctx.core.on_pilot_message(event("state", station=1, state="B", pilot="X2"), now)
    ctx.core.cycle(now)
    assert client.get(f"{API}/stations/1").json()["reason"] == "waiting: no price at or under 0.20 known"
    assert client.get(f"{API}/prices").json()["source"] == {"kind": "manual"}

    configured = {"kind": "url", "url": "", "format": "awattar", "refresh_s": 900, "surcharge": 0.1, "factor": 1.19}
    with PriceFeed() as feed:
        feed.serve({"object": "list", "data": [market(hour, hour + H, 300.0), market(hour + H, hour + 2 * H, 40.0),
                                               market(hour + 2 * H, hour + 3 * H, 120.0)]})
        configured["url"] = feed.url
        answer = client.put(f"{API}/site", json={"price_source": configured}, headers=admin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["price_source"] == configured
        assert feed.requests == 1  # fetched before the answer
        again = client.put(f"{API}/site", json={"price_source": configured, "line_limit_a": 25}, headers=admin)
        assert again.status_code == 200 and feed.requests == 1  # the same source: no fetch

    prices = client.get(f"{API}/prices").json()
    assert [(s["start"], s["end"]) for s in prices["slots"]] == [(hour + i * H, hour + (i + 1) * H) for i in range(3)]
    assert [s["price"] for s in prices["slots"]] == [pytest.approx(0.476), pytest.approx(0.1666), pytest.approx(0.2618)]
    status = prices["source"].pop("status")
    assert prices["source"] == configured
    assert status["slots"] == 3 and status["last_error"] is None and status["last_success"] == status["last_attempt"]
    assert status["next_attempt"] == pytest.approx(status["last_success"] + 900)
    ctx.core.cycle(now)
    assert client.get(f"{API}/stations/1").json()["reason"] == f"waiting for cheap hours from {local_hhmm(hour + H)}"
    assert any(e["message"].startswith("price provider: 3 slots from 127.0.0.1")
               for e in client.get(f"{API}/events", params={"kind": "prices"}).json()["items"])
    assert client.get(f"{API}/audit").json()["items"][0]["details"]["price_source"] == configured

    manual = client.put(f"{API}/site", json={"price_source": {"kind": "manual"}}, headers=admin)
    assert manual.status_code == 200
    assert client.get(f"{API}/prices").json()["source"] == {"kind": "manual"}
    assert len(client.get(f"{API}/prices").json()["slots"]) == 3  # what was fetched stays until replaced


def test_a_saved_url_source_is_fetched_when_the_app_starts(ctx: AppContext, tmp_path: Path) -> None:
    with PriceFeed() as feed:
        feed.serve(GOOD["evse"])
        saved = SiteSettings(price_source=source(feed.url)).model_dump(mode="json")
        ctx.storage.settings.set_value(persist.SITE_KEY, saved, time.time())
        app = create_app(ctx, web_dir=tmp_path / "no-web-ui", options=TEST_OPTIONS)
        with TestClient(app):
            deadline = time.monotonic() + 10
            while app.state.price_provider.status.last_attempt is None and time.monotonic() < deadline:
                time.sleep(0.05)
    assert app.state.price_provider.status.slots == 2 and feed.requests == 1
    assert ctx.core.price_at(T0 + H + 1) == 0.10


@pytest.mark.parametrize("price_source, message", [
    ({"kind": "url", "url": "ftp://feed.invalid/prices"}, "URL scheme should be 'http' or 'https'"),
    ({"kind": "url", "url": "file:///etc/passwd"}, "URL scheme should be 'http' or 'https'"),
    ({"kind": "url", "url": "prices.json"}, "valid URL"),
    ({"kind": "url"}, "Field required"),
    ({"kind": "url", "url": "http://feed.invalid/p", "refresh_s": 60}, "greater than or equal to 300"),
    ({"kind": "url", "url": "http://feed.invalid/p", "refresh_s": 90000}, "less than or equal to 86400"),
    ({"kind": "url", "url": "http://feed.invalid/p", "surcharge": 0.1}, "awattar format only"),
    ({"kind": "url", "url": "http://feed.invalid/p", "format": "awattar", "factor": 0}, "greater than 0"),
    ({"kind": "url", "url": "http://feed.invalid/p", "format": "csv"}, "'evse' or 'awattar'"),
    ({"kind": "tibber"}, "does not match any of the expected tags"),
    ({"kind": "manual", "url": "http://feed.invalid/p"}, "Extra inputs"),
])
def test_bad_price_sources_are_422(client: TestClient, admin: dict[str, str], price_source: dict[str, Any],
                                   message: str) -> None:
    answer = client.put(f"{API}/site", json={"price_source": price_source}, headers=admin)
    assert answer.status_code == 422 and message in answer.text, answer.text
    assert client.get(f"{API}/site").json()["price_source"] == {"kind": "manual"}


def test_parse_errors_are_feed_errors() -> None:
    with pytest.raises(FeedError, match="not JSON"):
        parse(b"[" * 100_000, source())  # nesting deeper than the parser goes is bad data too
