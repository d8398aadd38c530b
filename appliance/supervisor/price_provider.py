"""Prices from a configured URL: fetched at start, every `refresh_s`, and at once when the
source changes (PUT /site).

A feed is someone else's server: it may be down, slow, huge or wrong. Each of those is one
line in the event log ("price provider: ..."), never a crash, and the prices stored before
stay in use. Good answers go the same way as prices sent to PUT /prices (the same checks,
then storage and the core), replacing the stored prices over the span they cover.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from appliance import __version__
from appliance.errors import ApplianceError
from appliance.supervisor.api import persist
from appliance.supervisor.api.schemas import MAX_PRICE_SLOTS, Prices
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.settings import UrlPrices
from appliance.supervisor.tasks import cancel

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0  # the whole answer, not only each read
MAX_BYTES = 4 * 1024 * 1024
RETRY_S = 300.0  # after a failure, try again this soon (no later than the shortest refresh_s)
EVENT_KIND = "prices"

# http and https only, also after a redirect (urllib's default opener would follow one to ftp:)
_OPENER = urllib.request.OpenerDirector()
for _handler in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                 urllib.request.HTTPRedirectHandler(), urllib.request.HTTPDefaultErrorHandler(),
                 urllib.request.HTTPErrorProcessor()):
    _OPENER.add_handler(_handler)


class FeedError(ApplianceError):
    """The feed gave nothing usable; the message says why, for the event log and the status."""


class MarketSlot(BaseModel):
    """One entry of an aWATTar-style market-price feed. Unknown fields are ignored: such feeds
    carry more than the three needed."""

    model_config = ConfigDict(allow_inf_nan=False)

    start_timestamp: float = Field(ge=0, description="epoch milliseconds")
    end_timestamp: float = Field(ge=0, description="epoch milliseconds")
    marketprice: float = Field(description="per MWh")
    unit: str = "Eur/MWh"

    @field_validator("unit")
    @classmethod
    def _per_mwh(cls, unit: str) -> str:
        if unit.lower() != "eur/mwh":
            raise ValueError(f"prices in {unit!r}; only Eur/MWh is understood")
        return unit


class MarketPrices(BaseModel):
    data: list[MarketSlot] = Field(max_length=MAX_PRICE_SLOTS)


@dataclass
class FeedStatus:
    """What the last fetches of the configured URL gave (times in epoch s)."""

    last_attempt: float | None = None
    last_success: float | None = None
    last_error: str | None = None  # of the last attempt; None when it worked
    slots: int = 0  # stored by the last good fetch
    next_attempt: float | None = None


def download(url: str, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES) -> bytes:
    """The body at `url`; blocking, so it runs in a thread. The deadline also stops a server
    that trickles its answer byte by byte, which a socket timeout alone would not."""
    deadline = time.monotonic() + timeout_s
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": f"evse-appliance/{__version__}"})
    try:
        with _OPENER.open(request, timeout=timeout_s) as answer:
            body = bytearray()
            while chunk := answer.read1(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(f"the answer is larger than {max_bytes // 1024} KiB")
                if time.monotonic() > deadline:
                    raise FeedError(f"no complete answer within {timeout_s:g} s")
            return bytes(body)
    except urllib.error.HTTPError as exc:
        raise FeedError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FeedError(f"cannot fetch: {_reason(exc.reason)}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FeedError(f"cannot fetch: {_reason(exc)}") from None


def without_secrets(url: str) -> str:
    """`url` without user:password@, query and fragment, where feeds keep their API keys: what
    readers, the audit log and the supervisor's log get to see."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redacted(source: dict[str, Any]) -> dict[str, Any]:
    """A price source as JSON (from model_dump or a request body), its URL without secrets."""
    url = source.get("url")
    return {**source, "url": without_secrets(url)} if isinstance(url, str) else source


def _reason(error: object) -> str:
    """"Connection refused" rather than "[Errno 111] Connection refused"."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}" if where else f"{error['msg']}{more}"


def parse(body: bytes, source: UrlPrices) -> Prices:
    """The slots in a feed's answer, checked like a PUT /prices body (finite, ordered, no overlap)."""
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # ValueError includes UnicodeDecodeError
        raise FeedError(f"the answer is not JSON: {exc}") from None
    try:
        if source.format == "awattar":
            market = MarketPrices.model_validate(data).data
            slots: Any = [{"start": m.start_timestamp / 1000, "end": m.end_timestamp / 1000,
                           "price": round((m.marketprice / 1000 + source.surcharge) * source.factor, 6)}
                          for m in market]
        elif isinstance(data, list):
            slots = data
        else:
            raise FeedError(f'expected a JSON list of {{"start", "end", "price"}}, not {type(data).__name__}')
        if not slots:
            raise FeedError("the answer holds no price slots")
        return Prices.model_validate({"slots": slots})
    except ValidationError as exc:
        raise FeedError(_first_error(exc)) from None


class PriceProvider:
    """Fetches the configured URL in the app's event loop; `status` says how that went."""

    def __init__(self, ctx: AppContext, timeout_s: float = TIMEOUT_S) -> None:
        self.ctx = ctx
        self.timeout_s = timeout_s
        self.status = FeedStatus()
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """In the app's event loop. A lock or event belongs to the first loop that waits on it,
        so each start (each lifespan: tests run several) makes its own."""
        self._lock, self._wake = asyncio.Lock(), asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancel(self._task)

    def view(self, full: bool) -> dict[str, Any]:
        """The configured source and, for a URL, its status (GET /prices); the URL's secrets
        only when `full` (for admins, who edit it)."""
        source = self.ctx.core.settings.price_source
        view = source.model_dump(mode="json")
        view = view if full else redacted(view)
        if isinstance(source, UrlPrices):
            view["status"] = asdict(self.status)
        return view

    async def reconfigured(self) -> None:
        """The source changed: fetch now, so the caller can show at once whether it works,
        and count the next refresh from here."""
        async with self._lock:
            self.status = FeedStatus()
            await self._refresh()
        self._wake.set()

    async def refresh(self) -> None:
        async with self._lock:
            await self._refresh()

    async def _refresh(self) -> None:
        source = self.ctx.core.settings.price_source
        if not isinstance(source, UrlPrices):
            return
        url = str(source.url)
        try:
            prices = parse(await asyncio.to_thread(download, url, self.timeout_s), source)
            if self.ctx.core.settings.price_source != source:
                return  # changed while fetching; the new source's fetch follows
            count = persist.replace_prices(self.ctx, *prices.span, [(s.start, s.end, s.price) for s in prices.slots])
        except (FeedError, ValueError) as exc:
            self._failed(url, str(exc))
        else:
            self._succeeded(url, source, count, prices.span[1])

    def _failed(self, url: str, error: str) -> None:
        now = self.ctx.clock()
        if error != self.status.last_error:  # a feed that stays down is one event, not one per retry
            self._event(now, f"price provider: {error}; keeping the prices known before", url)
            log.warning("price provider %s: %s", without_secrets(url), error)
        self.status.last_attempt, self.status.last_error = now, error
        self.status.next_attempt = now + RETRY_S

    def _succeeded(self, url: str, source: UrlPrices, count: int, until: float) -> None:
        now = self.ctx.clock()
        if self.status.last_success is None or self.status.last_error is not None:
            until_text = time.strftime("%Y-%m-%d %H:%M", time.localtime(until))
            self._event(now, f"price provider: {count} slots from {urlsplit(url).hostname}, until {until_text}", url)
        self.status = FeedStatus(last_attempt=now, last_success=now, slots=count, next_attempt=now + source.refresh_s)

    def _event(self, now: float, message: str, url: str) -> None:
        # the host only: a feed's query string may hold an API key
        self.ctx.storage.events.add(now, EVENT_KIND, message, None, {"host": urlsplit(url).hostname})

    def _delay(self) -> float | None:
        """Seconds to the next fetch; None: nothing to fetch until the source changes."""
        if not isinstance(self.ctx.core.settings.price_source, UrlPrices):
            return None
        if self.status.next_attempt is None:
            return 0.0
        return max(0.0, self.status.next_attempt - self.ctx.clock())

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._delay()):
                    await self._wake.wait()
            except TimeoutError:
                try:
                    await self.refresh()
                except Exception:  # a bug here must not end the refreshes for good
                    log.exception("price provider failed")
                    self.status.next_attempt = self.ctx.clock() + RETRY_S
            else:
                self._wake.clear()
