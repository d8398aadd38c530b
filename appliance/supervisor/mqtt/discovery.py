"""Home Assistant MQTT discovery: one device per station and one for the site, each entity
with unique_id, device and availability, its state on a plain-value topic (see `state`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.j1772.states import VehicleState
from appliance.supervisor.allocation.modes import Mode
from appliance.supervisor.mqtt.topics import Topics

MODES = [mode.value for mode in Mode]
PHASES = (1, 2, 3)
CLEAR_FAULT = "clear_fault"
PRESS = "PRESS"


@dataclass(frozen=True)
class Entity:
    """`key` is both the object id and the state topic's last level."""

    component: str
    key: str
    name: str
    extra: dict[str, Any] = field(default_factory=dict)
    command: bool = False  # HA sends to <state topic>/set
    stateless: bool = False  # a button has no state


def _sensor(key: str, name: str, unit: str, device_class: str, state_class: str = "measurement") -> Entity:
    return Entity("sensor", key, name, {"unit_of_measurement": unit, "device_class": device_class,
                                        "state_class": state_class})


def station_entities(rating_a: float) -> list[Entity]:
    per_phase = [_sensor(f"current_l{i}", f"Current L{i}", "A", "current") for i in PHASES] + \
                [_sensor(f"voltage_l{i}", f"Voltage L{i}", "V", "voltage") for i in PHASES]
    return [
        Entity("sensor", "vehicle_state", "Vehicle state",
               {"device_class": "enum", "options": [s.value for s in VehicleState]}),
        _sensor("power", "Power", "W", "power"),
        _sensor("energy", "Energy", "kWh", "energy", "total_increasing"),
        _sensor("session_energy", "Session energy", "kWh", "energy", "total_increasing"),
        *per_phase,
        _sensor("offered_current", "Offered current", "A", "current"),
        Entity("sensor", "reason", "Reason", {"icon": "mdi:information-outline"}),
        Entity("sensor", "faults", "Faults", {"icon": "mdi:alert-circle-outline"}),
        Entity("binary_sensor", "problem", "Problem", {"device_class": "problem"}),
        Entity("binary_sensor", "plugged", "Plugged in", {"device_class": "plug"}),
        Entity("binary_sensor", "charging", "Charging", {"device_class": "battery_charging"}),
        Entity("select", "mode", "Mode", {"options": MODES}, command=True),
        Entity("number", "max_current", "Maximum current",
               {"min": 6, "max": rating_a, "step": 1, "unit_of_measurement": "A", "device_class": "current",
                "mode": "box"}, command=True),
        Entity("number", "priority", "Priority", {"min": -100, "max": 100, "step": 1, "mode": "box"}, command=True),
        Entity("button", CLEAR_FAULT, "Clear fault", {"payload_press": PRESS}, command=True, stateless=True),
    ]


LIMIT_TEMPLATE = "{{ value_json.%s }}"  # null (no limit) renders None: unknown in Home Assistant

SITE_ENTITIES = [
    *[_sensor(f"line_l{i}", f"Line current L{i}", "A", "current") for i in PHASES],
    Entity("sensor", "operating_limit", "Operating limit",
           {"unit_of_measurement": "A", "device_class": "current"}),
    Entity("sensor", "limit_current", "External limit current",
           {"unit_of_measurement": "A", "device_class": "current", "value_template": LIMIT_TEMPLATE % "current_a"}),
    Entity("sensor", "limit_power", "External limit power",
           {"unit_of_measurement": "W", "device_class": "power", "value_template": LIMIT_TEMPLATE % "power_w"}),
]
SITE_STATE = {"limit_current": "limit", "limit_power": "limit"}  # entities reading one JSON topic


def _config(topics: Topics, entity: Entity, state_topic: str, unique: str, device: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": entity.name, "unique_id": unique, "default_entity_id": f"{entity.component}.{unique}", "device": device,
        "availability_topic": topics.availability, "payload_available": "online", "payload_not_available": "offline",
        **entity.extra,
    }
    if not entity.stateless:
        config["state_topic"] = state_topic
    if entity.command:
        config["command_topic"] = topics.command(state_topic)
    if entity.component == "binary_sensor":
        config.update(payload_on="ON", payload_off="OFF")
    return config


def site_device(topics: Topics, version: str) -> dict[str, Any]:
    return {"identifiers": [f"{topics.node_id}_site"], "name": "EVSE site", "manufacturer": "EVSE appliance",
            "model": "Two-station 22 kW AC charging appliance", "sw_version": version}


def station_configs(topics: Topics, station_id: int, name: str, rating_a: float, version: str,
                    read_only: bool) -> list[tuple[str, dict[str, Any] | None]]:
    """(config topic, payload) for each of a station's entities; None (read-only) removes a control."""
    node = f"{topics.node_id}_station{station_id}"
    device = {"identifiers": [node], "name": name, "manufacturer": "EVSE appliance",
              "model": f"AC station, {rating_a:g} A", "sw_version": version,
              "via_device": f"{topics.node_id}_site"}
    return [(topics.config(e.component, f"station{station_id}_{e.key}"),
             None if read_only and e.command else
             _config(topics, e, topics.station(station_id, e.key), f"{node}_{e.key}", device))
            for e in station_entities(rating_a)]


def site_configs(topics: Topics, version: str) -> list[tuple[str, dict[str, Any] | None]]:
    device = site_device(topics, version)
    return [(topics.config(e.component, f"site_{e.key}"),
             _config(topics, e, topics.site(SITE_STATE.get(e.key, e.key)), f"{topics.node_id}_site_{e.key}", device))
            for e in SITE_ENTITIES]
