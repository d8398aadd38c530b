"""The OCPP charge point beside the supervisor's runtime: one asyncio task keeps the link,
another turns what the stations do into transactions, statuses and meter values once a second
and what the central system asked for (profiles, availability) into the core's inputs.

Reads the core's live state in the same event loop and never blocks it; everything the
central system must not lose goes through the durable outbox first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from appliance import __version__
from appliance.supervisor.api import persist
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.external_limit import ExternalLimit
from appliance.supervisor.live import LiveStation
from appliance.supervisor.ocpp.charge_point import ApplianceChargePoint
from appliance.supervisor.ocpp.composite import Electrical, composite_schedule
from appliance.supervisor.ocpp.config import Configuration, phase_rotation_value
from appliance.supervisor.ocpp.firmware import Firmware
from appliance.supervisor.ocpp.link import CountingConnection, OcppLink
from appliance.supervisor.ocpp.meter_values import due, meter_value, timestamp
from appliance.supervisor.ocpp.profiles import TX, Profile, ProfileError, ProfileStore
from appliance.supervisor.ocpp.settings import SETTINGS_KEY, OcppSettings, load
from appliance.supervisor.ocpp.status import ConnectorStatus, charge_point_status, connector_status
from appliance.supervisor.ocpp.transactions import Transactions
from appliance.supervisor.policy import StationCap
from appliance.supervisor.tasks import cancel_all, stop_if_cancelled

log = logging.getLogger(__name__)
CONFIG_KEY = "ocpp.configuration"
PROFILES_KEY = "ocpp.profiles"
AVAILABILITY_KEY = "ocpp.availability"
CONNECTORS = (1, 2)
BOOT_RETRY_S = 30.0  # when the central system gives no interval with Pending/Rejected
LIMIT_HORIZON_S = 7 * 86400.0
CENTRAL = "the central system"
TRIGGERS = ("BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "FirmwareStatusNotification",
            "DiagnosticsStatusNotification")


@dataclass(frozen=True)
class InFlight:
    """A transaction message sent on this connection and not answered yet."""

    item_id: int
    action: str
    sent_before: int  # the connection's messages_sent before it


class OcppService:
    def __init__(self, ctx: AppContext, period_s: float = 1.0, min_backoff_s: float = 1.0,
                 max_backoff_s: float = 60.0, response_timeout_s: float = 30.0) -> None:
        self.ctx = ctx
        self.period_s = period_s
        self.min_backoff_s, self.max_backoff_s = min_backoff_s, max_backoff_s
        self.response_timeout_s = response_timeout_s
        self.settings = load(ctx.storage.settings.get_value(SETTINGS_KEY))
        rotations = {s.id: s.phase_rotation for s in ctx.core.settings.stations}
        self.config = Configuration(ctx.storage.settings.get_value(CONFIG_KEY), phase_rotation_value(rotations))
        self.profiles = ProfileStore.from_json(ctx.storage.settings.get_value(PROFILES_KEY) or [], ctx.clock())
        saved = ctx.storage.settings.get_value(AVAILABILITY_KEY) or {}
        self.available = {c: bool(saved.get(str(c), True)) for c in (0, *CONNECTORS)}
        self.scheduled_off: set[int] = set()  # Inoperative once the running transaction ends
        self.transactions = Transactions(ctx.storage.ocpp, self._end_values)
        self.firmware = Firmware(ctx, self.queue)
        self.pending_profiles: dict[int, Profile] = {}  # with a RemoteStart, for its transaction
        self.authorized: dict[int, str] = {}  # this plug-in's Authorize: "pending" or the idTag's status
        self.link: OcppLink | None = None
        self.registration: str | None = None
        self.status: dict[int, ConnectorStatus] = {}
        self.sent: dict[int, ConnectorStatus] = {}
        self.heartbeat_s = float(self.config.integer("HeartbeatInterval"))
        self.last_sample: dict[int, float] = {}
        self.last_aligned: float | None = None
        self._refusals: dict[int, int] = {}  # outbox item -> CallErrors it got
        self._retry_at = 0.0  # after a CallError, the outbox waits TransactionMessageRetryInterval
        self._direct: asyncio.Queue[Any] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._connection: CountingConnection | None = None
        self._in_flight: InFlight | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if not self.settings.enabled or self.settings.url is None:
            return
        self.link = OcppLink(self.settings, self._session, float(self.config.integer("WebSocketPingInterval")),
                             self.min_backoff_s, self.max_backoff_s)
        self._tasks = [asyncio.create_task(self.link.run()), asyncio.create_task(self._control())]

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks = []
        self.link = None
        self.registration = None

    async def reconfigure(self, settings: OcppSettings) -> None:
        """New settings from the API: stored, and the link restarted on them."""
        await self.stop()
        self.settings = settings
        self.ctx.storage.settings.set_value(SETTINGS_KEY, settings.model_dump(), self.ctx.clock())
        if not settings.enabled:
            self._lift_limits(self.ctx.clock())
        await self.start()

    def view(self) -> dict[str, Any]:
        link = self.link.state.view() if self.link is not None else {"state": "disabled"}
        return {**self.settings.public(), "link": link, "registration": self.registration,
                "queued_transaction_messages": self.ctx.storage.ocpp.count(),
                "available": {str(c): a for c, a in self.available.items()}}

    # ------------------------------------------------------------------ once a second
    async def _control(self) -> None:
        while True:
            try:
                self.tick(self.ctx.clock())
            except Exception:  # a fault here must not stop the next second's
                log.exception("OCPP control cycle failed")
            await asyncio.sleep(self.period_s)

    def tick(self, now: float) -> None:
        """Until the pilot has spoken the stations' picture is empty: a transaction that ran
        before a restart must not look like a car that left, nor its readings like zeros."""
        core = self.ctx.core
        for c in CONNECTORS if core.pilot_connected else ():
            live = core.live[c]
            if not live.plugged:
                self.authorized.pop(c, None)
            started = self.transactions.update(c, live, self._available(c), self.settings.id_tag, now,
                                               self._authorized)
            if started == "started":
                pending = self.pending_profiles.pop(c, None)
                if pending is not None:
                    self.profiles.install(pending, now, True, None)
                self.last_sample[c] = now
            if c not in self.transactions.running:
                self._ended(c)
        self.apply_limits(now)
        if core.pilot_connected:
            self._sample(now)
        self.status = {0: charge_point_status(core.pilot_connected, self.available[0])}
        for c in CONNECTORS:
            self.status[c] = connector_status(core.live[c], self._available(c), c in self.transactions.running,
                                              c in self.transactions.finished)
        self._wake.set()

    def _authorized(self, connector: int) -> bool:
        """A car that starts charging locally (free vending) is first authorized with the configured
        idTag, once per plug-in: the sender asks, and the tick after the answer starts. With the
        central system away it starts on its own (LocalAuthorizeOffline), and its StartTransaction's
        idTagInfo still decides later."""
        status = self.authorized.get(connector)
        if status is None:
            if self.registration != "Accepted":
                return True
            self.authorized[connector] = "pending"
        return status == "Accepted"

    async def _authorize(self, cp: ApplianceChargePoint) -> None:
        """Authorize for each connector waiting to start; a refused idTag pauses the station until the
        car leaves, and a central system that does not know Authorize (CallError) leaves it to
        StartTransaction."""
        for connector in [c for c, status in self.authorized.items() if status == "pending"]:
            result = await self._call(cp, call.Authorize(id_tag=self.settings.id_tag))
            status = "Accepted" if result is None else str(result.id_tag_info.get("status"))
            if self.authorized.get(connector) != "pending":
                continue  # the car left meanwhile
            self.authorized[connector] = status
            if status != "Accepted":
                log.info("the central system answered station %d's idTag with %s", connector, status)
                self.transactions.held.add(connector)

    def _available(self, connector: int) -> bool:
        return self.available[0] and self.available[connector]

    def _ended(self, connector: int) -> None:
        """No transaction on `connector` (any more): its TxProfiles go, a scheduled Inoperative holds."""
        self.last_sample.pop(connector, None)
        self.profiles.end_transaction(connector)
        for c in (0, connector):
            if c in self.scheduled_off and not (c == 0 and self.transactions.running):
                self.scheduled_off.discard(c)
                self._set_available(c, False)

    def apply_limits(self, now: float) -> None:
        """The profiles in force now as each station's cap and the site's external limit."""
        core = self.ctx.core
        for c in CONNECTORS:
            live = core.live[c]
            cap = None
            if not self._available(c):
                cap = StationCap(0.0, f"{CENTRAL} (connector unavailable)")
            elif c in self.transactions.held:
                cap = StationCap(0.0, f"{CENTRAL} (transaction stopped)")
            else:
                limit = self.profiles.limit(c, now, self.transactions.tx_start(c))
                if limit is not None:
                    amps = limit.amps(core.settings.voltage_v, live.car_phases())
                    cap = StationCap(round(amps, 1), CENTRAL)
            core.set_station_cap(c, cap, now)
        self._site_limit(now)

    def _site_limit(self, now: float) -> None:
        """ChargePointMaxProfile → the site's external limit (source ocpp), expiring where the
        profiles change next, so that without the central system it lapses on its own."""
        limit = self.profiles.limit(0, now, None)
        current = self.ctx.core.external_limit
        if limit is None:
            if current is not None and current.source == "ocpp":
                persist.save_external_limit(self.ctx, None)
            return
        expires = self.profiles.next_change(0, now, LIMIT_HORIZON_S, None)
        amps = (limit.value,) * 3 if limit.unit == "A" else None
        watts = limit.value if limit.unit == "W" else None
        if current is not None and current.source == "ocpp" and current.current_a == amps \
                and current.power_w == watts and current.expires_at == expires:
            return
        persist.save_external_limit(self.ctx, ExternalLimit(source="ocpp", current_a=amps, power_w=watts,
                                                            set_at=now, expires_at=expires))

    def _lift_limits(self, now: float) -> None:
        for c in CONNECTORS:
            self.ctx.core.set_station_cap(c, None, now)
        limit = self.ctx.core.external_limit
        if limit is not None and limit.source == "ocpp":
            persist.save_external_limit(self.ctx, None)

    def _sample(self, now: float) -> None:
        core = self.ctx.core
        interval = self.config.integer("MeterValueSampleInterval")
        for c in CONNECTORS:
            if c in self.transactions.running and due(now, self.last_sample.get(c), interval, False):
                self.last_sample[c] = now
                value = meter_value(core.live[c], self.config.measurands("MeterValuesSampledData"), "Sample.Periodic",
                                    now)
                self.transactions.meter_values(c, value, now)
        aligned = self.config.integer("ClockAlignedDataInterval")
        if due(now, self.last_aligned, aligned, True):
            for c in CONNECTORS:
                value = meter_value(core.live[c], self.config.measurands("MeterValuesAlignedData"), "Sample.Clock", now)
                if not self.transactions.meter_values(c, value, now):
                    self.queue(call.MeterValues(connector_id=c, meter_value=[camel_to_snake_case(value)]))
        self.last_aligned = now

    def _end_values(self, live: LiveStation, now: float) -> list[dict[str, Any]]:
        measurands = self.config.measurands("StopTxnSampledData")
        return [meter_value(live, measurands, "Transaction.End", now)] if measurands else []

    def queue(self, request: Any) -> None:
        """A message outside transactions, sent when the link is up (dropped while it is down)."""
        if self.registration == "Accepted":
            self._direct.put_nowait(request)
            self._wake.set()

    # ------------------------------------------------------------------ one connection
    async def _session(self, connection: CountingConnection) -> None:
        cp = ApplianceChargePoint(self.settings.charge_point_id or "", connection, self, self.response_timeout_s)
        self._connection = connection
        reader = asyncio.create_task(cp.start())
        sender: asyncio.Task[None] | None = None
        try:
            await self._register(cp, reader)
            self.sent.clear()
            self._direct = asyncio.Queue()
            sender = asyncio.create_task(self._sender(cp))
            done, _ = await asyncio.wait({reader, sender}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            self._settle_in_flight(connection)
            self.registration = None
            self._connection = None
            self.authorized = {c: s for c, s in self.authorized.items() if s != "pending"}  # offline: start locally
            await cancel_all((reader, sender))

    def _boot_request(self) -> call.BootNotification:
        return call.BootNotification(charge_point_vendor="EVSE appliance", charge_point_model="2x22kW AC",
                                     firmware_version=__version__)

    async def _register(self, cp: ApplianceChargePoint, reader: asyncio.Task[None]) -> None:
        """BootNotification until Accepted, at the interval the central system gives."""
        while True:
            result = await cp.call(self._boot_request(), suppress=False)
            self.registration = result.status
            if result.status == "Accepted":
                if result.interval > 0:
                    self.heartbeat_s = float(result.interval)
                return
            stop_if_cancelled()
            done, _ = await asyncio.wait({reader}, timeout=result.interval or BOOT_RETRY_S)
            for task in done:
                task.result()
                raise ConnectionError("the central system went while the charge point was not accepted")

    async def _sender(self, cp: ApplianceChargePoint) -> None:
        last_heartbeat = asyncio.get_running_loop().time()
        while True:
            self._wake.clear()
            await self._authorize(cp)
            await self._send_outbox(cp)
            await self._send_statuses(cp)
            while not self._direct.empty():
                await self._call(cp, self._direct.get_nowait())
            loop_now = asyncio.get_running_loop().time()
            if self.heartbeat_s > 0 and loop_now - last_heartbeat >= self.heartbeat_s:
                last_heartbeat = loop_now
                await self._call(cp, call.Heartbeat())
            stop_if_cancelled()  # the library's calls may have swallowed it
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._wake.wait()

    async def _call(self, cp: ApplianceChargePoint, request: Any) -> Any:
        """One message outside transactions; a CallError is logged, not fatal."""
        try:
            result = await cp.call(request, suppress=False)
        except OCPPError as error:
            log.warning("the central system refused %s: %s", type(request).__name__, error)
            return None
        if isinstance(request, call.BootNotification) and result.status == "Accepted" and result.interval > 0:
            self.heartbeat_s = float(result.interval)
        return result

    async def _send_statuses(self, cp: ApplianceChargePoint) -> None:
        for c, status in sorted(self.status.items()):
            if self.sent.get(c) != status:
                await self._call(cp, call.StatusNotification(
                    connector_id=c, error_code=status.error_code, status=status.status, info=status.info,
                    timestamp=timestamp(self.ctx.clock())))
                self.sent[c] = status

    async def _send_outbox(self, cp: ApplianceChargePoint) -> None:
        """Transaction messages in the order they were made; each row goes once answered. One
        refused with a CallError is tried TransactionMessageAttempts times, the later ones wait."""
        outbox = self.ctx.storage.ocpp
        if asyncio.get_running_loop().time() < self._retry_at:
            return
        for item in outbox.pending():
            payload = dict(item.payload)
            if item.action != "StartTransaction":
                tx = outbox.transaction(item.tx_ref)
                if tx is None or tx.transaction_id is None:
                    log.warning("dropping %s: the central system never accepted its transaction", item.action)
                    outbox.delivered(item.id)
                    continue
                payload["transactionId"] = tx.transaction_id
            request = getattr(call, item.action)(**camel_to_snake_case(payload))
            sent_before = self._connection.messages_sent if self._connection is not None else 0
            self._in_flight = InFlight(item.id, item.action, sent_before)
            try:
                result = await cp.call(request, suppress=False)
            except OCPPError as error:
                refused = self._refusals[item.id] = self._refusals.get(item.id, 0) + 1
                if refused < self.config.integer("TransactionMessageAttempts"):
                    log.info("the central system refused %s (%s); trying again later", item.action, error)
                    self._retry_at = asyncio.get_running_loop().time() + self.config.integer(
                        "TransactionMessageRetryInterval")
                    return
                log.warning("the central system refused %s %d times (%s); not sent again", item.action, refused, error)
                del self._refusals[item.id]
                outbox.delivered(item.id)
                continue
            finally:
                self._in_flight = None  # when the session cancels this call, it has settled the message first
            self._refusals.pop(item.id, None)
            if item.action != "StartTransaction":
                outbox.delivered(item.id)
                continue
            outbox.delivered(item.id, result.transaction_id)
            if result.id_tag_info.get("status") != "Accepted":
                self._deauthorized(item.tx_ref, result.id_tag_info.get("status"))

    def _settle_in_flight(self, connection: CountingConnection) -> None:
        """A MeterValues or StopTransaction whose answer the central system's own orderly close
        cut off is not sent again: it had reached the central system (`closed_by_peer`), and a
        second copy would count twice there. A StartTransaction is, for the transaction id only
        its answer carries; anything cut off otherwise (a broken link, no answer in time) is too."""
        flight, self._in_flight = self._in_flight, None
        if (flight is None or flight.action == "StartTransaction" or connection.messages_sent <= flight.sent_before
                or not connection.closed_by_peer()):
            return
        log.info("%s reached the central system before it closed the connection; not sent again", flight.action)
        self._refusals.pop(flight.item_id, None)
        self.ctx.storage.ocpp.delivered(flight.item_id)

    def _deauthorized(self, tx_ref: int, status: object) -> None:
        """StopTransactionOnInvalidId: a transaction whose idTag the central system did not accept
        stops, and its station stays paused until the car leaves."""
        connector = self.transactions.connector_of_ref(tx_ref)
        if connector is None:
            return
        now = self.ctx.clock()
        log.info("the central system answered the idTag of station %d's transaction with %s", connector, status)
        self.transactions.stop(connector, self.ctx.core.live[connector], "DeAuthorized", now)
        self._ended(connector)
        self.tick(now)

    # ------------------------------------------------------------------ what the central system asks
    def _audit(self, action: str, target: str | None, details: Any = None) -> None:
        self.ctx.storage.audit.add(self.ctx.clock(), f"ocpp:{self.settings.charge_point_id}", action, target, details)

    def remote_start(self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None) -> str:
        now = self.ctx.clock()
        free = [c for c in CONNECTORS if c not in self.transactions.running and self._available(c)]
        if connector_id is None:
            plugged = [c for c in free if self.ctx.core.live[c].plugged]
            connector_id = (plugged or free or [0])[0]
        if connector_id not in free:
            return "Rejected"
        if charging_profile is not None:
            try:
                profile = Profile.parse(connector_id, _plain_json(charging_profile))
            except (ProfileError, KeyError, TypeError, ValueError):
                return "Rejected"
            if profile.purpose != TX:
                return "Rejected"
            self.pending_profiles[connector_id] = profile
        self.transactions.remote_start(connector_id, id_tag, now, self.config.integer("ConnectionTimeOut"))
        self._audit("ocpp.remote_start", f"station {connector_id}", {"id_tag": id_tag})
        return "Accepted"

    def remote_stop(self, transaction_id: int) -> str:
        connector = self.transactions.connector_of(transaction_id)
        if connector is None:
            return "Rejected"
        now = self.ctx.clock()
        self.transactions.stop(connector, self.ctx.core.live[connector], "Remote", now)
        self._ended(connector)
        self._audit("ocpp.remote_stop", f"station {connector}", {"transaction_id": transaction_id})
        self.tick(now)
        return "Accepted"

    def change_availability(self, connector_id: int, kind: str) -> str:
        """Connector 0 is the whole charge point. A connector busy with a transaction goes
        Inoperative when the transaction ends (Scheduled); until Operative again it is paused."""
        if connector_id not in (0, *CONNECTORS):
            return "Rejected"
        targets = (0, *CONNECTORS) if connector_id == 0 else (connector_id,)
        self._audit("ocpp.change_availability", f"connector {connector_id}", {"type": kind})
        if kind == "Operative":
            for c in targets:
                self.scheduled_off.discard(c)
                self._set_available(c, True)
            return "Accepted"
        busy = {c for c in targets if c in self.transactions.running}
        if busy and connector_id == 0:
            busy.add(0)
        for c in targets:
            if c in busy:
                self.scheduled_off.add(c)
            else:
                self._set_available(c, False)
        return "Scheduled" if busy else "Accepted"

    def _set_available(self, connector: int, available: bool) -> None:
        self.available[connector] = available
        self.ctx.storage.settings.set_value(AVAILABILITY_KEY, {str(c): a for c, a in self.available.items()},
                                            self.ctx.clock())

    def reset(self, kind: str) -> str:
        self._audit("ocpp.reset", None, {"type": kind})
        return "Accepted"

    def after_reset(self, kind: str) -> None:
        """Transactions end, and the link starts over with a new BootNotification. A Hard reset
        does the same: the stations' safety lives in the pilot, which a reset must not touch."""
        now = self.ctx.clock()
        for c in CONNECTORS:
            if self.transactions.stop(c, self.ctx.core.live[c], f"{kind}Reset", now):
                self._ended(c)
        if self._connection is not None:
            asyncio.ensure_future(self._connection.close())

    def get_configuration(self, keys: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
        return self.config.get(keys)

    def change_configuration(self, key: str, value: str) -> str:
        status: str = self.config.change(key, value)
        if status == "Accepted":
            self.ctx.storage.settings.set_value(CONFIG_KEY, self.config.changed, self.ctx.clock())
            self._audit("ocpp.change_configuration", key, {"value": value})
            if key == "HeartbeatInterval":
                self.heartbeat_s = float(self.config.integer(key))
        return status

    def set_profile(self, connector_id: int, profile: dict[str, Any]) -> str:
        now = self.ctx.clock()
        try:
            parsed = Profile.parse(connector_id, _plain_json(profile))
            self.profiles.install(parsed, now, connector_id in self.transactions.running,
                                  self.transactions.transaction_id(connector_id))
        except (ProfileError, KeyError, TypeError, ValueError) as exc:
            log.info("refused a charging profile: %s", exc)
            return "Rejected"
        self._save_profiles()
        self._audit("ocpp.set_charging_profile", f"connector {connector_id}", parsed.raw)
        self.apply_limits(now)
        return "Accepted"

    def clear_profiles(self, profile_id: int | None, connector_id: int | None, purpose: str | None,
                       stack_level: int | None) -> str:
        cleared = self.profiles.clear(profile_id, connector_id, purpose, stack_level)
        if not cleared:
            return "Unknown"
        self._save_profiles()
        self._audit("ocpp.clear_charging_profile", None, {"id": profile_id, "connector": connector_id,
                                                          "purpose": purpose, "stack_level": stack_level})
        self.apply_limits(self.ctx.clock())
        return "Accepted"

    def _save_profiles(self) -> None:
        self.ctx.storage.settings.set_value(PROFILES_KEY, self.profiles.to_json(), self.ctx.clock())

    def composite(self, connector_id: int, duration: int, unit: str | None) -> dict[str, Any]:
        if connector_id not in (0, *CONNECTORS) or duration <= 0:
            return {"status": "Rejected"}
        now = float(int(self.ctx.clock()))
        core = self.ctx.core
        if connector_id == 0:
            el = Electrical(core.settings.voltage_v, 3, core.settings.line_limit_a)
        else:
            live = core.live[connector_id]
            rating = core.settings.station(connector_id).max_current_a
            el = Electrical(core.settings.voltage_v, live.car_phases(), rating)
        unit = unit or "A"
        periods = composite_schedule(self.profiles, connector_id, now, duration, unit,
                                     self.transactions.tx_start(connector_id), el)
        if periods is None:
            return {"status": "Rejected"}
        return {"status": "Accepted", "connector_id": connector_id, "schedule_start": timestamp(now),
                "charging_schedule": {"duration": duration, "start_schedule": timestamp(now),
                                      "charging_rate_unit": unit, "charging_schedule_period": [
                                          {"start_period": start, "limit": limit} for start, limit in periods]}}

    def trigger(self, message: str, connector_id: int | None) -> str:
        if connector_id is not None and connector_id not in (0, *CONNECTORS):
            return "Rejected"
        return "Accepted" if message in TRIGGERS else "NotImplemented"

    def after_trigger(self, message: str, connector_id: int | None) -> None:
        if message not in TRIGGERS or (connector_id is not None and connector_id not in (0, *CONNECTORS)):
            return
        if message == "BootNotification":
            self._direct.put_nowait(self._boot_request())
        elif message == "Heartbeat":
            self._direct.put_nowait(call.Heartbeat())
        elif message == "StatusNotification":
            for c in ((0, *CONNECTORS) if connector_id is None else (connector_id,)):
                self.sent.pop(c, None)
        elif message == "MeterValues":
            for c in (CONNECTORS if not connector_id else (connector_id,)):
                value = meter_value(self.ctx.core.live[c], self.config.measurands("MeterValuesSampledData"),
                                    "Trigger", self.ctx.clock())
                self._direct.put_nowait(call.MeterValues(connector_id=c, meter_value=[camel_to_snake_case(value)],
                                                         transaction_id=self.transactions.transaction_id(c)))
        elif message == "FirmwareStatusNotification":
            self._direct.put_nowait(call.FirmwareStatusNotification(self.firmware.status))
        else:
            self._direct.put_nowait(call.DiagnosticsStatusNotification(self.firmware.diagnostics_status))
        self._wake.set()

    def update_firmware(self, location: str, retrieve_date: str, retries: int | None) -> None:
        self._audit("ocpp.update_firmware", None, {"location": location})
        self.firmware.update(location, retrieve_date)

    def get_diagnostics(self, location: str) -> str | None:
        return self.firmware.diagnostics(location)


def _plain_json(data: dict[str, Any]) -> dict[str, Any]:
    """A payload as plain JSON types (the library hands profiles over with Decimals)."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=float))
    return result
