"""The MQTT setting (broker, topics, read-only) and the link's state; changes need an admin."""

from __future__ import annotations

from fastapi import APIRouter

from appliance.supervisor.api.control import Rejected
from appliance.supervisor.api.deps import Admin, Ctx, Mqtt, Reader, audit
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.schemas import MqttInfo, MqttUpdate
from appliance.supervisor.mqtt.bridge import MqttBridge
from appliance.supervisor.mqtt.settings import MqttSettings

router = APIRouter(prefix="/mqtt", tags=["mqtt"])


def _info(bridge: MqttBridge) -> MqttInfo:
    s = bridge.settings
    return MqttInfo(enabled=s.enabled, url=s.url, password_set=bool(s.password), base_topic=s.base_topic,
                    discovery_prefix=s.discovery_prefix, read_only=s.read_only, link=bridge.status())


def _updated(current: MqttSettings, body: MqttUpdate) -> MqttSettings:
    """`current` with the fields the body sets (each already checked by MqttUpdate); null on a flag
    or a topic leaves it as it is."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True, exclude={"url", "password"}).items()
               if v is not None}
    settings = current.model_copy(update=changes)
    if "url" in body.model_fields_set:
        settings = settings.with_url(body.url)
    if "password" in body.model_fields_set:
        settings = settings.model_copy(update={"password": body.password or None})
    if settings.enabled and settings.url is None:
        raise Rejected("url", "give the broker's URL to enable MQTT")
    return settings


@router.get("", response_model=MqttInfo, summary="The MQTT setting (never the password) and the link's state")
async def mqtt(bridge: Mqtt, _: Reader) -> MqttInfo:
    return _info(bridge)


@router.put("", response_model=MqttInfo, summary="Change the broker, topics or read-only; the link starts over")
async def update_mqtt(body: MqttUpdate, ctx: Ctx, bridge: Mqtt, who: Admin) -> MqttInfo:
    with user_input():
        settings = _updated(bridge.settings, body)
    await bridge.apply(settings)
    details = body.model_dump(exclude_unset=True, exclude={"password", "url"})
    audit(ctx, who, "mqtt.update", "mqtt", {**details, "url": settings.url, "password_set": bool(settings.password)})
    return _info(bridge)
