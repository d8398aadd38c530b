"""Commands over MQTT: the same schemas and the same `control` functions as REST, audited as
actor `mqtt`. A payload they refuse changes nothing; the reason goes to the log and, as JSON,
to `<base>/error`."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from appliance.supervisor.api import control
from appliance.supervisor.api.pilot_commands import PilotError
from appliance.supervisor.api.schemas import ClearFault, MeterReading, SiteLimit, StationPatch
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.mqtt.discovery import PRESS
from appliance.supervisor.mqtt.topics import Topics

log = logging.getLogger(__name__)
ACTOR = "mqtt"
MAX_PAYLOAD = 64 * 1024
STATION_FIELDS = {"mode": "mode", "max_current": "max_current_a", "priority": "priority"}
TRUE, FALSE = frozenset({"true", "on", "1"}), frozenset({"false", "off", "0"})
CLEAR = frozenset({"", "null", "clear"})


class Refused(Exception):
    """A command that is not applied; the message says why."""


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD:
        raise Refused(f"payload larger than {MAX_PAYLOAD} bytes")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Refused("the payload is not UTF-8 text") from None


def _value(text: str) -> Any:
    """A JSON value, or the bare text: `16`, `"solar"` and `solar` all work."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in exc.errors())


class CommandHandler:
    def __init__(self, ctx: AppContext, topics: Topics, on_applied: Callable[[], None],
                 publish: Callable[[str, str, bool], None]) -> None:
        self.ctx = ctx
        self.topics = topics
        self.on_applied = on_applied  # push the new state at once
        self.publish = publish
        self._station = re.compile(rf"^{re.escape(topics.base)}/station/([^/]+)/([^/]+)/set$")

    async def handle(self, topic: str, payload: bytes) -> None:
        try:
            await self._dispatch(topic, _text(payload))
        except ValidationError as exc:
            self._refuse(topic, _explain(exc))
        except (Refused, ValueError, LookupError, PilotError) as exc:
            self._refuse(topic, str(exc).strip("'\""))
        else:
            self.on_applied()

    def _refuse(self, topic: str, reason: str) -> None:
        log.warning("MQTT command on %s refused: %s", topic, reason)
        self.publish(self.topics.error, json.dumps({"topic": topic, "error": reason, "t": self.ctx.clock()}), False)

    async def _dispatch(self, topic: str, text: str) -> None:
        if topic == self.topics.command(self.topics.site("limit")):
            self._site_limit(text)
        elif topic == self.topics.command(f"{self.topics.base}/meter"):
            control.meter_reading(self.ctx, MeterReading.model_validate_json(text or "null"))
        elif (match := self._station.match(topic)) is not None:
            await self._station_command(match.group(1), match.group(2), text)
        else:
            raise Refused("no such command topic")

    def _site_limit(self, text: str) -> None:
        if text.lower() in CLEAR:
            control.clear_site_limit(self.ctx, ACTOR)
        else:
            control.set_site_limit(self.ctx, ACTOR, SiteLimit.model_validate_json(text), "mqtt")

    async def _station_command(self, station: str, thing: str, text: str) -> None:
        if not station.isdigit():
            raise Refused(f"{station!r} is not a station number")
        sid = int(station)
        control.known_station(self.ctx, sid)
        if thing == "clear_fault":
            body = ClearFault() if text in ("", PRESS) else ClearFault.model_validate_json(text)
            if body.service:
                raise Refused("a service reset needs an administrator; use the web UI")
            await control.clear_fault(self.ctx, ACTOR, sid, body)
            return
        if thing == "enable":
            changes = self._enable(sid, text.lower())
        elif thing in STATION_FIELDS:
            changes = StationPatch.model_validate({STATION_FIELDS[thing]: _value(text)}).model_dump(exclude_unset=True)
        else:
            raise Refused(f"no command {thing!r}; station commands: "
                          f"{', '.join(sorted([*STATION_FIELDS, 'enable', 'clear_fault']))}")
        control.update_station(self.ctx, ACTOR, sid, changes)

    def _enable(self, sid: int, text: str) -> dict[str, Any]:
        """false: mode off; true: mode on unless the station already charges in another mode."""
        if text not in TRUE | FALSE:
            raise Refused(f"enable takes true or false, not {text[:40]!r}")
        if text in FALSE:
            return {"mode": "off"}
        return {"mode": "on"} if self.ctx.core.settings.station(sid).mode == "off" else {}
