// Dashboard: the supply line and both stations side by side, live; each station's controls.

import * as api from "./api.js";
import { field, h, setText, statusLine } from "./dom.js";
import { faultHelp } from "./faults.js";
import { amps, clock, duration, fromLocalInput, kwh, toLocalInput, volts, watts } from "./format.js";
import { on, serverNow, setStation, store } from "./store.js";

export const MODES = [
  ["on", "On", "charge whenever the car is ready"],
  ["off", "Off", "never charge"],
  ["low_cost", "Low-cost", "charge in cheap hours, or the cheapest hours before a departure"],
  ["solar", "Solar", "charge from solar surplus only"],
  ["min_solar", "Min-solar", "6 A always, more from solar surplus"],
];

const STATE_WORDS = {
  A: "No car",
  B: "Car connected",
  C: "Charging",
  D: "Charging, ventilation",
  E: "Pilot error",
  F: "Fault",
};

export function stateWords(station) {
  const base = STATE_WORDS[station.state] || "Unknown";
  if (station.state === "B") {
    return station.offered_a > 0 && station.pilot === "X2" ? "Car connected, ready" : "Car connected, paused";
  }
  if ((station.state === "C" || station.state === "D") && !station.contactor) return "Car wants power";
  return base;
}

function stateClass(station) {
  if ((station.faults || []).some((f) => f.blocking !== false)) return "fault";
  return { A: "idle", B: "connected", C: "charging", D: "charging", E: "fault", F: "fault" }[station.state] || "idle";
}

export function renderDashboard(root) {
  const line = lineView();
  const grid = h("div", { class: "stations" });
  root.append(h("h1", { class: "visually-hidden" }, "Dashboard"), line.el, grid);
  const cards = new Map();

  function update(snapshot) {
    if (!snapshot) return;
    line.update(snapshot);
    for (const station of snapshot.stations || []) {
      if (!cards.has(station.id)) {
        const card = stationCard(station.id);
        cards.set(station.id, card);
        grid.append(card.el);
      }
      cards.get(station.id).update(station);
    }
  }

  update(store.snapshot);
  const off = on("snapshot", update);
  const ticker = setInterval(() => cards.forEach((c) => c.tick()), 1000);
  return () => {
    off();
    clearInterval(ticker);
  };
}

function lineView() {
  const phases = [1, 2, 3].map((n) => {
    const meter = h("meter", { min: 0, max: 32, value: 0, "aria-label": `Line phase L${n} current` });
    const text = h("span", { class: "num" });
    return { meter, text, el: h("div", { class: "line-phase" }, h("span", { class: "phase-name" }, `L${n}`), meter, text) };
  });
  const pilot = h("span", { class: "pill" });
  const external = h("p", { class: "external-limit", role: "status", "aria-label": "External limit", hidden: true });
  const el = h(
    "section",
    { class: "card line", "aria-labelledby": "line-title" },
    h("div", { class: "card-head" }, h("h2", { id: "line-title" }, "Supply line"), pilot),
    h("div", { class: "line-phases" }, phases.map((p) => p.el)),
    external,
  );
  return {
    el,
    update(snapshot) {
      const own = snapshot.operating_limit_a ?? snapshot.line_limit_a ?? 32; // 0 A is a real limit: no charging
      const ext = snapshot.external_limit;
      const limit = typeof ext?.cap_a === "number" ? Math.min(own, ext.cap_a) : own;
      external.hidden = !ext;
      if (ext) setText(external, externalLimitText(ext));
      const line = snapshot.line_a || [0, 0, 0];
      phases.forEach((p, i) => {
        p.meter.max = Math.max(limit, 1);
        p.meter.high = Math.max(limit, 1) * 0.9;
        p.meter.value = Math.min(limit, line[i] || 0);
        setText(p.text, `${(line[i] || 0).toFixed(1)} / ${limit.toFixed(0)} A`);
      });
      setText(pilot, snapshot.pilot_connected ? "pilot connected" : "pilot not connected");
      pilot.className = `pill ${snapshot.pilot_connected ? "ok" : "bad"}`;
    },
  };
}

/** "Energy manager (REST): 16 A per phase and 9.00 kW, until 14:05" */
export function externalLimitText(limit) {
  const values = [];
  const a = limit.current_a;
  if (a) values.push(a.every((x) => x === a[0]) ? `${a[0]} A per phase` : `${a.join(" / ")} A`);
  if (typeof limit.power_w === "number") values.push(watts(limit.power_w));
  const until = typeof limit.expires_at === "number" ? `until ${clock(limit.expires_at)}` : "until cleared";
  return `Energy manager (${String(limit.source).toUpperCase()}): ${values.join(" and ")}, ${until}`;
}

function stationCard(sid) {
  const titleId = `station-${sid}-title`;
  const title = h("h2", { id: titleId }, `Station ${sid}`);
  const badge = h("span", { class: "badge", role: "status", "aria-label": `Station ${sid} state` });
  const reason = h("span", { class: "reason-text" });

  // per-phase table
  const cells = {};
  const rows = [
    ["offered", "Offered"],
    ["current", "Measured"],
    ["voltage", "Voltage"],
    ["power", "Power"],
  ].map(([key, label]) => {
    cells[key] = [0, 1, 2].map(() => h("td", { class: "num" }));
    return h("tr", null, h("th", { scope: "row" }, label), cells[key]);
  });
  const table = h(
    "table",
    { class: "phases", "aria-label": `Station ${sid} per phase` },
    h("thead", null, h("tr", null, h("td"), ["L1", "L2", "L3"].map((p) => h("th", { scope: "col" }, p)))),
    h("tbody", null, rows),
  );

  const kpi = (label, key) => {
    const dd = h("dd", { class: "num", dataset: { kpi: key } });
    return { dd, el: h("div", null, h("dt", null, label), dd) };
  };
  const k = {
    power: kpi("Total power", "power"),
    offered: kpi("Offered", "offered"),
    energy: kpi("Session energy", "energy"),
    duration: kpi("Duration", "duration"),
    cable: kpi("Cable", "cable"),
    target: kpi("Allocated", "target"),
  };
  const kpis = h("dl", { class: "kpis" }, Object.values(k).map((x) => x.el));

  const faultList = h("ul", { class: "faults", "aria-label": `Station ${sid} active faults` });
  const controls = controlsView(sid);

  const el = h(
    "section",
    { class: "card station", "aria-labelledby": titleId, dataset: { station: sid } },
    h("div", { class: "card-head" }, title, badge),
    h("p", { class: "reason" }, h("span", { class: "reason-label" }, "Why: "), reason),
    kpis,
    h("div", { class: "table-wrap" }, table),
    faultList,
    controls.el,
  );

  let current = null;
  let faultKey = "";

  function tick() {
    if (!current) return;
    const session = current.session;
    setText(k.duration.dd, session ? duration(serverNow() - session.start) : "–");
  }

  return {
    el,
    tick,
    update(station) {
      current = station;
      setText(title, station.name || `Station ${sid}`);
      el.dataset.state = station.state;
      badge.className = `badge ${stateClass(station)}`;
      setText(badge, `${station.state} · ${stateWords(station)}`);
      setText(reason, station.reason || "–");
      const offered = station.offered_a ?? 0;
      const cur = station.current_a || [];
      const vol = station.voltage_v || [];
      const pow = station.power_w || [];
      for (let i = 0; i < 3; i += 1) {
        setText(cells.offered[i], amps(offered));
        setText(cells.current[i], amps(cur[i]));
        setText(cells.voltage[i], volts(vol[i]));
        setText(cells.power[i], watts(pow[i]));
      }
      setText(k.power.dd, watts(station.power_total_w));
      setText(k.offered.dd, amps(offered));
      setText(k.energy.dd, station.session ? kwh(station.session.energy_kwh) : "–");
      setText(k.cable.dd, station.cable_a ? `${station.cable_a.toFixed(0)} A` : "–");
      setText(k.target.dd, amps(station.target_a));
      tick();
      const faults = station.faults || [];
      const key = faults.map((f) => `${f.code}:${f.since ?? ""}`).join(",");
      if (key !== faultKey) {
        faultKey = key;
        renderFaults(faultList, sid, faults);
      }
      controls.update(station);
    },
  };
}

function renderFaults(list, sid, faults) {
  list.replaceChildren(
    ...faults.map((fault) => {
      const help = faultHelp(fault.code);
      const status = statusLine();
      let button = null;
      if (help.clear) {
        const service = help.clear === "service";
        button = h(
          "button",
          {
            type: "button",
            class: service ? "danger" : "",
            onclick: async () => {
              if (service && !confirm(`Service reset of ${fault.code} on station ${sid}? Only after the contactor was checked.`)) return;
              button.disabled = true;
              try {
                await api.post(`/stations/${sid}/clear-fault`, { code: fault.code, ...(service ? { service: true } : {}) });
                status.ok("cleared");
              } catch (error) {
                status.error(error.message);
              } finally {
                button.disabled = false;
              }
            },
          },
          service ? `Service reset ${fault.code}` : `Clear ${fault.code}`,
        );
      }
      return h(
        "li",
        { class: fault.blocking === false ? "fault warning" : "fault" },
        h(
          "strong",
          null,
          `${help.title} `,
          h("code", null, fault.code),
          h("span", { class: "pill" }, fault.blocking === false ? "warning" : "blocks charging"),
        ),
        fault.message ? h("p", null, fault.message) : null,
        h("p", { class: "todo" }, h("span", { class: "todo-label" }, "What to do: "), help.todo),
        button,
        status.el,
      );
    }),
  );
}

function controlsView(sid) {
  const group = `mode-${sid}`;
  const status = statusLine();
  const radios = new Map();
  let pendingMode = null;

  const modeSet = h(
    "fieldset",
    { class: "modes" },
    h("legend", null, "Mode"),
    MODES.map(([value, label, hint]) => {
      const input = h("input", { type: "radio", name: group, value, title: hint });
      input.addEventListener("change", () => input.checked && setMode(value));
      radios.set(value, input);
      return h("label", { class: "mode" }, input, h("span", null, label));
    }),
  );

  async function setMode(mode) {
    pendingMode = mode;
    status.clear();
    try {
      const view = await api.patch(`/stations/${sid}`, { mode });
      if (view && typeof view.id === "number" && "state" in view) setStation(view);
      status.ok(`mode: ${MODES.find((m) => m[0] === mode)[1]}`);
    } catch (error) {
      status.error(error.message);
    } finally {
      pendingMode = null;
    }
  }

  const priority = h("input", { type: "number", min: -100, max: 100, step: 1, inputmode: "numeric" });
  const maxCurrent = h("input", { type: "number", min: 6, max: 80, step: 1, inputmode: "decimal" });
  const departure = h("input", { type: "datetime-local" });
  const energy = h("input", { type: "number", min: 0.1, max: 200, step: 0.1, inputmode: "decimal" });
  const inputs = [priority, maxCurrent, departure, energy];
  let dirty = false;
  inputs.forEach((i) => i.addEventListener("input", () => (dirty = true)));

  const lowCost = h(
    "div",
    { class: "lowcost" },
    field("Departure", departure, "Low-cost: leave at"),
    field("Energy wanted (kWh)", energy, "Low-cost: by departure"),
  );
  const save = h("button", { type: "submit" }, "Save");
  const form = h(
    "form",
    {
      class: "station-settings",
      "aria-label": `Station ${sid} charging settings`,
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        const body = {
          priority: priority.value === "" ? undefined : Number(priority.value),
          max_current_a: maxCurrent.value === "" ? undefined : Number(maxCurrent.value),
          departure: fromLocalInput(departure.value),
          energy_kwh: energy.value === "" ? null : Number(energy.value),
        };
        save.disabled = true;
        try {
          const view = await api.patch(`/stations/${sid}`, body);
          dirty = false;
          if (view && typeof view.id === "number" && "state" in view) setStation(view);
          status.ok("saved");
        } catch (error) {
          status.error(error.message);
        } finally {
          save.disabled = false;
        }
      },
    },
    h("div", { class: "row" }, field("Priority", priority, "higher charges first"), field("Max current (A)", maxCurrent)),
    lowCost,
    h("div", { class: "actions" }, save),
  );

  const el = h("div", { class: "controls" }, modeSet, form, status.el);

  return {
    el,
    update(station) {
      const mode = pendingMode || station.mode;
      for (const [value, input] of radios) {
        if (input.checked !== (value === mode)) input.checked = value === mode;
      }
      lowCost.hidden = mode !== "low_cost";
      const editing = dirty || inputs.includes(document.activeElement);
      if (!editing) {
        priority.value = station.priority ?? 0;
        maxCurrent.value = station.max_current_a ?? "";
        maxCurrent.max = station.rating_a ?? 80;
        departure.value = toLocalInput(station.departure);
        energy.value = station.energy_kwh ?? "";
      }
    },
  };
}
