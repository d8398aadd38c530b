// History: power over time (zoomable, live at the right edge), energy per day, prices with the
// cheap and planned slots, the sessions table with its CSV export, events and faults.

import * as api from "./api.js";
import { chart } from "./charts.js";
import { field, h, statusLine } from "./dom.js";
import { clock, dateTime, duration, kwh, price, watts } from "./format.js";
import { on, serverNow, store } from "./store.js";

const RANGES = [
  [3600, "Last hour"],
  [6 * 3600, "Last 6 hours"],
  [24 * 3600, "Last 24 hours"],
  [7 * 86400, "Last 7 days"],
];
const DAY = 86400;
const LIVE_MAX_RANGE = 6 * 3600;

const first = (obj, ...keys) => {
  for (const k of keys) if (obj && obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
};

export function renderHistory(root) {
  const cleanups = [];
  root.append(h("h1", { class: "visually-hidden" }, "History"));
  const grid = h("div", { class: "history" });
  root.append(grid);
  for (const part of [powerPanel, energyPanel, pricesPanel, sessionsPanel, eventsPanel]) {
    const { el, cleanup } = part();
    grid.append(el);
    cleanups.push(cleanup);
  }
  return () => cleanups.forEach((f) => f && f());
}

function stationIds() {
  return (store.snapshot?.stations || [{ id: 1 }, { id: 2 }]).map((s) => s.id);
}

function stationName(sid) {
  return store.snapshot?.stations?.find((s) => s.id === sid)?.name || `Station ${sid}`;
}

/** Telemetry buckets -> [xs, kW per station...], aligned on the union of times. */
function seriesFromBuckets(points, ids, valueOf) {
  const byTime = new Map();
  for (const p of points) {
    const t = first(p, "t", "start");
    const sid = first(p, "station", "station_id");
    if (typeof t !== "number") continue;
    if (!byTime.has(t)) byTime.set(t, new Map());
    byTime.get(t).set(sid, valueOf(p));
  }
  const xs = [...byTime.keys()].sort((a, b) => a - b);
  return [xs, ...ids.map((sid) => xs.map((t) => (byTime.get(t).has(sid) ? byTime.get(t).get(sid) : null)))];
}

function powerOf(point) {
  const total = first(point, "power_total_w_avg", "power_total_w", "power_w_total");
  if (typeof total === "number") return total / 1000;
  const phases = first(point, "power_w_avg", "power_w");
  return Array.isArray(phases) ? phases.reduce((a, b) => a + (b || 0), 0) / 1000 : null;
}

function telemetryPoints(data) {
  return api.items(data, "points", "buckets", "samples");
}

function panel(title, ...children) {
  const headingId = `h-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, title), ...children);
}

// ---------------------------------------------------------------- power over time
function powerPanel() {
  const ids = stationIds();
  const power = chart({
    caption: "Power over time",
    series: ids.map((sid) => ({ label: stationName(sid), unit: "kW" })),
    yLabel: "kW",
    height: 240,
  });
  const range = h("select", null, RANGES.map(([s, label]) => h("option", { value: s }, label)));
  const reset = h("button", { type: "button", class: "secondary" }, "Reset zoom");
  const status = statusLine();
  let data = [[], ...ids.map(() => [])];
  let lastLive = 0;
  let loading = false;

  async function load() {
    loading = true;
    status.clear();
    const end = serverNow();
    const start = end - Number(range.value);
    try {
      const res = await api.get("/telemetry", { start: Math.floor(start), end: Math.ceil(end) + 1, resolution: "auto" });
      data = seriesFromBuckets(telemetryPoints(res), ids, powerOf);
      draw(false);
    } catch (error) {
      status.error(`power history: ${error.message}`);
    } finally {
      loading = false;
    }
  }

  function draw(keepZoom) {
    const latest = ids.map((sid, i) => {
      const ys = data[i + 1];
      const v = ys.length ? ys[ys.length - 1] : null;
      return `${stationName(sid)} ${v == null ? "–" : `${v.toFixed(2)} kW`}`;
    });
    power.setData(data, { keepZoom, summary: `${data[0].length} samples; latest: ${latest.join(", ")}` });
  }

  // live: append the snapshot's power once per second while the window is short
  const off = on("snapshot", (snapshot) => {
    if (loading || Number(range.value) > LIVE_MAX_RANGE || !snapshot) return;
    const t = Math.floor(serverNow());
    if (t <= lastLive || (data[0].length && t <= data[0][data[0].length - 1])) return;
    lastLive = t;
    data[0].push(t);
    ids.forEach((sid, i) => {
      const st = snapshot.stations.find((s) => s.id === sid);
      data[i + 1].push(st ? (st.power_total_w || 0) / 1000 : null);
    });
    const cutoff = t - Number(range.value);
    while (data[0].length && data[0][0] < cutoff) data.forEach((col) => col.shift());
    draw(power.isZoomed());
  });

  range.addEventListener("change", load);
  reset.addEventListener("click", () => power.resetZoom());
  load();
  // long ranges are not extended live: fetch them again now and then (unless zoomed in)
  const timer = setInterval(() => Number(range.value) > LIVE_MAX_RANGE && !power.isZoomed() && load(), 60000);
  const el = panel(
    "Power",
    h("div", { class: "toolbar" }, field("Range", range), reset, h("small", { class: "hint" }, "Drag across the chart to zoom.")),
    power.el,
    status.el,
  );
  return { el, cleanup: () => (off(), clearInterval(timer), power.destroy()) };
}

// ---------------------------------------------------------------- energy per day
const ENERGY_DAYS = 14;

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function energyPanel() {
  const ids = stationIds();
  const energy = chart({
    caption: "Energy per day",
    series: ids.map((sid, i) => ({
      label: stationName(sid),
      unit: "kWh",
      bars: true,
      barAlign: ids.length === 2 ? (i === 0 ? -1 : 1) : 0,
    })),
    yLabel: "kWh",
    height: 200,
    zoom: false,
    days: true,
    // one bar group per day at local noon, labelled under the bars (every n-th day when narrow)
    xRange: (u) => {
      const xs = u.data[0];
      return xs.length ? [xs[0] - DAY / 2, xs[xs.length - 1] + DAY / 2] : [serverNow() - ENERGY_DAYS * DAY, serverNow()];
    },
    xSplits: (u) => {
      const xs = u.data[0];
      const step = Math.max(1, Math.ceil((xs.length * 64) / Math.max(1, u.bbox.width / devicePixelRatio)));
      return xs.filter((_, i) => (xs.length - 1 - i) % step === 0);
    },
    yRange: (u, min, max) => [0, Math.max(1, max * 1.15)],
  });
  const status = statusLine();
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

  async function load() {
    const days = [];
    for (let back = ENERGY_DAYS - 1; back >= 0; back -= 1) {
      const d = new Date();
      d.setHours(12, 0, 0, 0);
      d.setDate(d.getDate() - back);
      days.push(d);
    }
    const start = new Date(days[0]).setHours(0, 0, 0, 0) / 1000;
    try {
      const res = await api.get("/energy/daily", { start, end: Math.ceil(serverNow()) + 1, tz });
      const rows = api.items(res, "days");
      const value = (key, sid) => rows.find((r) => r.day === key && r.station === sid)?.energy_kwh ?? 0;
      const data = [days.map((d) => d.getTime() / 1000), ...ids.map((sid) => days.map((d) => value(isoDay(d), sid)))];
      const total = rows.reduce((a, r) => a + (r.energy_kwh || 0), 0);
      const today = ids.map((sid) => `${stationName(sid)} ${kwh(value(isoDay(days[days.length - 1]), sid))}`);
      energy.setData(data, {
        summary: rows.length ? `today: ${today.join(", ")}; ${kwh(total)} over ${ENERGY_DAYS} days` : "no energy recorded yet",
      });
    } catch (error) {
      status.error(`energy per day: ${error.message}`);
    }
  }
  load();
  const timer = setInterval(load, 60000);
  const el = panel("Energy per day", energy.el, status.el);
  return { el, cleanup: () => (clearInterval(timer), energy.destroy()) };
}

// ---------------------------------------------------------------- prices
/** Planned charging slots a station view may carry (low-cost mode). */
function plannedSlots() {
  const out = [];
  for (const st of store.snapshot?.stations || []) {
    const slots = first(st, "plan", "planned_slots", "slots");
    const list = Array.isArray(slots) ? slots : Array.isArray(slots?.slots) ? slots.slots : [];
    for (const s of list) {
      const start = first(s, "start", 0);
      const end = first(s, "end", 1);
      if (typeof start === "number" && typeof end === "number") out.push({ start, end, station: st.id });
    }
  }
  return out;
}

function pricesPanel() {
  let slots = [];
  let threshold = null;
  let bands = [];
  const prices = chart({
    caption: "Prices",
    series: [{ label: "Price", unit: "/kWh", stepped: true, digits: 3, color: "#495057" }],
    yLabel: "per kWh",
    height: 200,
    bands: () => bands,
  });
  const legend = h(
    "p",
    { class: "legend" },
    h("span", { class: "swatch cheap" }),
    " cheap (at or under the threshold)  ",
    h("span", { class: "swatch planned" }),
    " planned charging  ",
    h("span", { class: "swatch now" }),
    " now",
  );
  const list = h("ul", { class: "slot-list", "aria-label": "Cheap and planned slots" });
  const status = statusLine();

  function redraw() {
    const planned = plannedSlots();
    const cheap = threshold == null ? [] : slots.filter((s) => s.price <= threshold);
    bands = [
      ...cheap.map((s) => ({ start: s.start, end: s.end, color: "rgba(47, 158, 68, 0.18)" })),
      ...planned.map((s) => ({ start: s.start, end: s.end, color: "rgba(92, 124, 250, 0.55)", bottom: 0.12 })),
      { start: serverNow(), end: serverNow(), color: "rgba(201, 42, 42, 0.8)", px: 2 },
    ];
    const xs = [];
    const ys = [];
    for (const s of slots) {
      xs.push(s.start);
      ys.push(s.price);
    }
    if (slots.length) {
      xs.push(slots[slots.length - 1].end);
      ys.push(slots[slots.length - 1].price);
    }
    prices.setData([xs, ys], {
      summary: slots.length
        ? `${slots.length} price slots; ${cheap.length} cheap${threshold == null ? " (no threshold set)" : ` at or under ${price(threshold)}`}; ${planned.length} planned`
        : "no prices known",
    });
    list.replaceChildren(
      ...cheap.slice(0, 12).map((s) => h("li", null, `cheap ${clock(s.start)}–${clock(s.end)} at ${price(s.price)}`)),
      ...planned.map((s) => h("li", null, `${stationName(s.station)} planned ${clock(s.start)}–${clock(s.end)}`)),
    );
  }

  async function load() {
    try {
      const [res, site] = await Promise.all([api.get("/prices"), store.site ? store.site : api.get("/site")]);
      store.site = site;
      slots = api.items(res, "slots").filter((s) => typeof s.price === "number");
      threshold = first(res, "threshold", "price_threshold") ?? first(site, "price_threshold") ?? null;
      redraw();
    } catch (error) {
      status.error(`prices: ${error.message}`);
    }
  }
  load();
  let lastPlan = "";
  const off = on("snapshot", () => {
    const key = JSON.stringify(plannedSlots());
    if (key !== lastPlan) {
      lastPlan = key;
      redraw();
    }
  });
  const timer = setInterval(load, 5 * 60000);
  const el = panel("Prices", prices.el, legend, list, status.el);
  return { el, cleanup: () => (off(), clearInterval(timer), prices.destroy()) };
}

// ---------------------------------------------------------------- sessions
const PAGE = 20;

export function sessionsCsvUrl() {
  return api.url("/sessions.csv");
}

function sessionsPanel() {
  let offset = 0;
  const body = h("tbody");
  const info = h("span", { class: "hint" });
  const prev = h("button", { type: "button", class: "secondary" }, "Newer");
  const next = h("button", { type: "button", class: "secondary" }, "Older");
  const status = statusLine();
  const download = h("a", { class: "button", href: sessionsCsvUrl(), download: "sessions.csv" }, "Download CSV");

  async function load() {
    try {
      const res = await api.get("/sessions", { limit: PAGE, offset });
      const rows = api.items(res, "sessions");
      const total = typeof res?.total === "number" ? res.total : rows.length + offset;
      body.replaceChildren(
        ...rows.map((s) => {
          const start = first(s, "start_t", "start");
          const end = first(s, "end_t", "end");
          const peak = first(s, "peak_power_w");
          return h(
            "tr",
            null,
            h("td", null, stationName(s.station)),
            h("td", null, dateTime(start)),
            h("td", null, end == null ? `${duration(serverNow() - start)} so far` : duration(end - start)),
            h("td", { class: "num" }, kwh(s.energy_kwh)),
            h("td", { class: "num" }, peak == null ? "–" : watts(peak)),
            h("td", { class: "num" }, s.cost == null ? "–" : s.cost.toFixed(2)),
            h("td", null, s.mode || "–"),
          );
        }),
      );
      if (!rows.length) body.append(h("tr", null, h("td", { colspan: 7 }, "No sessions yet.")));
      info.textContent = total ? `${offset + 1}–${offset + rows.length} of ${total}` : "";
      prev.disabled = offset === 0;
      next.disabled = offset + rows.length >= total;
    } catch (error) {
      status.error(`sessions: ${error.message}`);
    }
  }
  prev.addEventListener("click", () => ((offset = Math.max(0, offset - PAGE)), load()));
  next.addEventListener("click", () => ((offset += PAGE), load()));
  load();
  const timer = setInterval(load, 15000);
  const table = h(
    "table",
    { class: "data", "aria-label": "Sessions" },
    h(
      "thead",
      null,
      h("tr", null, ["Station", "Start", "Duration", "Energy", "Peak", "Cost", "Mode"].map((c) => h("th", { scope: "col" }, c))),
    ),
    body,
  );
  const el = panel(
    "Sessions",
    h("div", { class: "toolbar" }, download, prev, next, info),
    h("div", { class: "table-wrap" }, table),
    status.el,
  );
  return { el, cleanup: () => clearInterval(timer) };
}

// ---------------------------------------------------------------- events and faults
function eventsPanel() {
  const filter = h(
    "select",
    null,
    h("option", { value: "" }, "Everything"),
    h("option", { value: "faults" }, "Faults"),
    h("option", { value: "decision" }, "Decisions"),
    h("option", { value: "state" }, "Vehicle states"),
    document.body.classList.contains("read-only") ? null : h("option", { value: "control" }, "Control actions"),
    h("option", { value: "prices" }, "Price provider"),
    h("option", { value: "system" }, "System"),
  );
  const body = h("tbody");
  const status = statusLine();

  async function load() {
    status.clear();
    try {
      let rows;
      if (filter.value === "faults") {
        rows = api.items(await api.get("/faults", { limit: 100 })).map((f) => ({ ...f, kind: "fault" }));
      } else if (filter.value === "control") {
        rows = api.items(await api.get("/audit", { limit: 100 })).map((a) => ({
          t: a.t,
          station: a.target?.startsWith("station/") ? Number(a.target.slice(8)) : null,
          kind: "control",
          message: `${a.actor}: ${a.action}${a.details ? ` ${JSON.stringify(a.details)}` : ""}`,
        }));
      } else {
        const res = await api.get("/events", { kind: filter.value || undefined, limit: 100 });
        rows = api.items(res, "events");
      }
      body.replaceChildren(
        ...rows.map((e) => {
          const kind = first(e, "kind", "type") || (e.code ? "fault" : "");
          const fault = kind === "fault" || e.code;
          const message = e.message || (e.code ? `${e.code} ${e.active ? "raised" : "cleared"}` : "");
          return h(
            "tr",
            { class: fault ? "is-fault" : "" },
            h("td", null, dateTime(first(e, "t", "time"))),
            h("td", null, e.station ? `${e.station}` : "–"),
            h("td", null, kind),
            h("td", null, e.code && !message.includes(e.code) ? `${e.code}: ${message}` : message),
          );
        }),
      );
      if (!rows.length) body.append(h("tr", null, h("td", { colspan: 4 }, "Nothing recorded yet.")));
    } catch (error) {
      status.error(`events: ${error.message}`);
    }
  }
  filter.addEventListener("change", load);
  load();
  const timer = setInterval(load, 10000);
  const table = h(
    "table",
    { class: "data", "aria-label": "Events" },
    h("thead", null, h("tr", null, ["Time", "Station", "Kind", "What"].map((c) => h("th", { scope: "col" }, c)))),
    body,
  );
  const el = panel(
    "Events and faults",
    h("div", { class: "toolbar" }, field("Show", filter)),
    h("div", { class: "table-wrap tall" }, table),
    status.el,
  );
  return { el, cleanup: () => clearInterval(timer) };
}
