"""The real appliance on a real broker: `evse pilot --sim` and `evse supervisor --mqtt-url` (or
`evse sim --mqtt-url`) as processes, mosquitto in between, a test client watching and commanding
as Home Assistant would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.supervisor.mqtt.settings import default_base_topic
from tests.mqtt.conftest import Broker, Recorder, free_port

pytestmark = pytest.mark.realtime
BASE = default_base_topic()
NODE = BASE.replace("/", "_")
AVAILABILITY = f"{BASE}/availability"
COMMON = {"name", "unique_id", "default_entity_id", "device", "availability_topic"}
REQUIRED = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic", "payload_on", "payload_off"},
            "select": {"state_topic", "command_topic", "options"},
            "number": {"state_topic", "command_topic", "min", "max", "step"},
            "button": {"command_topic", "payload_press"}}
CARS = ('[[event]]\nat = 1.0\nstation = 1\ndo = "plug"\ncar = { cable_a = 32 }\n'
        '[[event]]\nat = 1.5\nstation = 1\ndo = "request"\n')


def _station(key: str) -> str:
    return f"{BASE}/station/1/{key}"


class Appliance:
    """A pilot on the simulated HAT with a car at station 1, and a supervisor on the broker."""

    def __init__(self, tmp: Path, broker: Broker) -> None:
        self.tmp, self.broker = tmp, broker
        self.socket = tmp / "pilot.sock"
        (tmp / "cars.toml").write_text(CARS)
        self.pilot = subprocess.Popen([sys.executable, "-m", "appliance", "pilot", "--sim", "--socket",
                                       str(self.socket), "--scenario", str(tmp / "cars.toml")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            assert self.pilot.poll() is None and time.monotonic() < deadline, "the pilot never served its socket"
            time.sleep(0.05)
        self.log = (tmp / "supervisor.log").open("wb")
        self.supervisor = subprocess.Popen(
            [sys.executable, "-m", "appliance", "supervisor", "--socket", str(self.socket), "--data-dir",
             str(tmp / "data"), "--port", str(free_port()), "--mqtt-url", broker.url],
            stdout=subprocess.DEVNULL, stderr=self.log)

    def stop(self) -> None:
        for proc in (self.supervisor, self.pilot):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
        self.log.close()


@pytest.fixture
def appliance(tmp_path: Path, broker: Broker) -> Iterator[Appliance]:
    running = Appliance(tmp_path, broker)
    yield running
    running.stop()


def _configs(watch: Recorder) -> dict[str, dict]:
    with watch.lock:
        return {m.topic: json.loads(m.payload) for m in watch.messages
                if m.topic.startswith("homeassistant/") and m.topic.endswith("/config") and m.payload}


def _charging(watch: Recorder) -> None:
    watch.wait(_station("vehicle_state"), lambda v: v == "C", timeout=30)
    watch.wait(_station("offered_current"), lambda v: float(v) == 32.0, timeout=20)


def test_discovery_is_retained_complete_and_online(appliance: Appliance, recorder: Callable[[], Recorder]) -> None:
    first = recorder()
    first.wait(AVAILABILITY, lambda v: v == "online", timeout=30)
    first.wait(f"homeassistant/button/{NODE}/station2_clear_fault/config", timeout=10)
    late = recorder()  # subscribes after the fact: gets what is retained
    late.wait(f"homeassistant/button/{NODE}/station2_clear_fault/config", lambda v: bool(v), timeout=10)
    assert late.wait(AVAILABILITY).retain and late.last(AVAILABILITY).payload == "online"
    configs = _configs(late)
    assert all(m.retain for m in late.messages if m.topic in configs)
    per_station = 20  # 13 sensors, 3 binary sensors, mode, max current, priority, clear fault
    assert len(configs) == 2 * per_station + 6, sorted(configs)
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)
    for topic, config in configs.items():
        component = topic.split("/")[1]
        assert COMMON | REQUIRED[component] <= set(config), (topic, set(config))
        assert config["availability_topic"] == AVAILABILITY and config["device"]["identifiers"]
    mode = configs[f"homeassistant/select/{NODE}/station1_mode/config"]
    assert mode["options"] == ["off", "on", "low_cost", "solar", "min_solar"]
    assert mode["default_entity_id"] == f"select.{NODE}_station1_mode"
    assert mode["command_topic"] == _station("mode/set") and mode["state_topic"] == _station("mode")
    current = configs[f"homeassistant/number/{NODE}/station1_max_current/config"]
    assert (current["min"], current["max"], current["unit_of_measurement"]) == (6, 32.0, "A")
    priority = configs[f"homeassistant/number/{NODE}/station2_priority/config"]
    assert (priority["min"], priority["max"]) == (-100, 100)
    energy = configs[f"homeassistant/sensor/{NODE}/station1_energy/config"]
    assert (energy["state_class"], energy["unit_of_measurement"], energy["device_class"]) == \
        ("total_increasing", "kWh", "energy")
    power = configs[f"homeassistant/sensor/{NODE}/station1_power/config"]
    assert (power["state_class"], power["unit_of_measurement"], power["device_class"]) == ("measurement", "W", "power")
    state = configs[f"homeassistant/sensor/{NODE}/station1_vehicle_state/config"]
    assert state["device_class"] == "enum" and state["options"] == ["A", "B", "C", "D", "E", "F"]
    problem = configs[f"homeassistant/binary_sensor/{NODE}/station1_problem/config"]
    assert problem["device_class"] == "problem" and problem["state_topic"] == _station("problem")
    site = configs[f"homeassistant/sensor/{NODE}/site_line_l2/config"]
    assert site["device"]["identifiers"] == [f"{NODE}_site"] and site["state_topic"] == f"{BASE}/site/line_l2"
    assert configs[f"homeassistant/sensor/{NODE}/station1_reason/config"]["device"]["via_device"] == f"{NODE}_site"

    _charging(late)  # state topics follow the car
    late.wait(_station("charging"), lambda v: v == "ON", timeout=20)
    late.wait(_station("power"), lambda v: float(v) > 1000, timeout=20)
    late.wait(f"{BASE}/site/line_l1", lambda v: float(v) > 5, timeout=20)

    mark = late.mark()
    late.publish("homeassistant/status", "online")  # Home Assistant restarted: everything again
    again = late.wait(f"homeassistant/select/{NODE}/station1_mode/config", after=mark, timeout=10)
    assert json.loads(again.payload) == mode

    appliance.supervisor.send_signal(signal.SIGTERM)
    appliance.supervisor.wait(timeout=15)
    late.wait(AVAILABILITY, lambda v: v == "offline", after=mark, timeout=5)
    assert recorder().wait(AVAILABILITY, timeout=5).payload == "offline"  # retained for whoever comes next


def test_a_killed_supervisor_goes_offline_by_its_last_will(appliance: Appliance,
                                                           recorder: Callable[[], Recorder]) -> None:
    watch = recorder()
    watch.wait(AVAILABILITY, lambda v: v == "online", timeout=30)
    mark = watch.mark()
    appliance.supervisor.send_signal(signal.SIGKILL)
    appliance.supervisor.wait(timeout=10)
    assert watch.wait(AVAILABILITY, after=mark, timeout=10).payload == "offline"


def test_commands_change_what_the_pilot_is_told(appliance: Appliance, recorder: Callable[[], Recorder]) -> None:
    watch = recorder()
    _charging(watch)

    mark = watch.mark()
    watch.publish(_station("max_current/set"), "10")
    watch.wait(_station("max_current"), lambda v: v == "10", after=mark)
    watch.wait(_station("offered_current"), lambda v: float(v) == 10.0, after=mark)

    mark = watch.mark()
    watch.publish(f"{BASE}/site/limit/set", json.dumps({"current_a": 8, "expires_in_s": 600}))
    limit = json.loads(watch.wait(f"{BASE}/site/limit", lambda v: json.loads(v)["active"], after=mark).payload)
    assert (limit["current_a"], limit["source"]) == (8.0, "mqtt")
    watch.wait(_station("offered_current"), lambda v: float(v) == 8.0, after=mark)

    mark = watch.mark()
    watch.publish(_station("max_current/set"), "sixteen")  # refused, nothing changes
    error = json.loads(watch.wait(f"{BASE}/error", after=mark).payload)
    assert error["topic"] == _station("max_current/set") and "max_current_a" in error["error"]
    time.sleep(2.5)
    assert watch.last(_station("max_current")).payload == "10"
    assert float(watch.last(_station("offered_current")).payload) == 8.0

    mark = watch.mark()
    watch.publish(f"{BASE}/site/limit/set", "")
    watch.wait(f"{BASE}/site/limit", lambda v: not json.loads(v)["active"], after=mark)
    watch.wait(_station("offered_current"), lambda v: float(v) == 10.0, after=mark)

    mark = watch.mark()
    watch.publish(_station("mode/set"), "off")
    watch.wait(_station("mode"), lambda v: v == "off", after=mark)
    watch.wait(_station("offered_current"), lambda v: float(v) == 0.0, after=mark)
    watch.wait(_station("charging"), lambda v: v == "OFF", after=mark)


def test_a_broker_restart_is_survived(appliance: Appliance, broker: Broker, recorder: Callable[[], Recorder]) -> None:
    watch = recorder()
    watch.wait(AVAILABILITY, lambda v: v == "online", timeout=30)
    watch.close()
    broker.restart()  # forgets every retained message
    after = recorder()
    after.wait(AVAILABILITY, lambda v: v == "online", timeout=30)
    assert recorder().wait(AVAILABILITY, timeout=5).retain
    after.wait(f"homeassistant/select/{NODE}/station1_mode/config", timeout=10)
    after.wait(_station("vehicle_state"), timeout=15)
    mark = after.mark()
    after.publish(_station("priority/set"), "7")  # and it still takes commands
    after.wait(_station("priority"), lambda v: v == "7", after=mark)


def test_the_demo_takes_the_broker_too_and_its_last_will_holds(tmp_path: Path, broker: Broker,
                                                               recorder: Callable[[], Recorder]) -> None:
    watch = recorder()
    sim = subprocess.Popen([sys.executable, "-m", "appliance", "sim", "--port", str(free_port()), "--data-dir",
                            str(tmp_path / "data"), "--mqtt-url", broker.url],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        watch.wait(AVAILABILITY, lambda v: v == "online", timeout=30)
        watch.wait(f"{BASE}/station/2/vehicle_state", timeout=15)
        mark = watch.mark()
        sim.send_signal(signal.SIGKILL)
        sim.wait(timeout=10)
        assert watch.wait(AVAILABILITY, after=mark, timeout=10).payload == "offline"
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait(timeout=10)
