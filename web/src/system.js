// System: version, uptime, hardware or simulated HAT, the pilot link, software update.

import * as api from "./api.js";
import { h, setText, statusLine } from "./dom.js";
import { dateTime, duration } from "./format.js";
import { on, store } from "./store.js";

export function renderSystem(root) {
  root.append(h("h1", { class: "visually-hidden" }, "System"));
  const status = statusLine();
  const values = {};
  const row = (label, key) => {
    values[key] = h("dd", { dataset: { key } }, "–");
    return h("div", null, h("dt", null, label), values[key]);
  };
  const info = h(
    "dl",
    { class: "facts" },
    row("Version", "version"),
    row("Uptime", "uptime"),
    row("Started", "started"),
    row("HAT", "hat"),
    row("Pilot process", "pilot"),
    row("Pilot reconnects", "reconnects"),
    row("Live updates", "live"),
  );

  let system = null;
  let fetchedAt = 0;

  function show() {
    if (!system) return;
    setText(values.version, system.version);
    setText(values.uptime, duration((system.uptime_s ?? 0) + (Date.now() - fetchedAt) / 1000));
    setText(values.started, dateTime(system.started));
    setText(values.hat, system.hat === "hardware" ? "EVSE HAT (hardware)" : "simulated HAT");
    const connected = store.snapshot ? store.snapshot.pilot_connected : system.pilot_connected;
    setText(values.pilot, connected ? "connected" : "not connected");
    setText(values.reconnects, system.pilot_reconnects ?? "–");
    setText(values.live, store.live);
  }

  async function load() {
    try {
      system = await api.get("/system");
      fetchedAt = Date.now();
      show();
      update.setAvailable(system);
    } catch (error) {
      status.error(error.message);
    }
  }

  const update = updatePanel(load);
  load();
  const timer = setInterval(show, 1000);
  const off = on("snapshot", show);
  root.append(
    h("div", { class: "settings" }, h("section", { class: "card", "aria-labelledby": "sys-title" }, h("h2", { id: "sys-title" }, "Appliance"), info, status.el), update.el),
  );
  return () => {
    clearInterval(timer);
    off();
    update.stop();
  };
}

/** POST /system/update starts it; its progress comes back in the answer and in GET /system/update. */
function updatePanel(reload) {
  const status = statusLine();
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Update progress" });
  const text = h("p", { class: "hint" });
  const button = h("button", { type: "button" }, "Update software");
  const wrap = h("div", { class: "update-progress", hidden: true }, bar, text);
  let timer = null;

  function progressOf(state) {
    const raw = state?.progress ?? state?.percent ?? state?.progress_pct;
    if (typeof raw !== "number") return null;
    return raw <= 1 && !("percent" in state) && !("progress_pct" in state) ? raw * 100 : raw;
  }

  function showState(state) {
    if (!state || typeof state !== "object") return false;
    const pct = progressOf(state);
    wrap.hidden = false;
    if (pct == null) bar.removeAttribute("value");
    else bar.value = Math.max(0, Math.min(100, pct));
    const phase = state.state || state.status || state.phase || "";
    text.textContent = [phase, state.message].filter(Boolean).join(": ") || (pct == null ? "" : `${pct.toFixed(0)} %`);
    const done = ["done", "finished", "succeeded", "failed", "error", "idle"].includes(phase) || pct >= 100;
    if (phase === "failed" || phase === "error") status.error(state.message || "the update failed");
    else if (done) status.ok(state.message || "update finished");
    return !done;
  }

  async function poll() {
    try {
      const state = await api.get("/system/update");
      if (showState(state)) timer = setTimeout(poll, 1000);
      else {
        button.disabled = false;
        reload();
      }
    } catch (error) {
      button.disabled = false;
      status.error(error.message);
    }
  }

  button.addEventListener("click", async () => {
    if (!confirm("Install the latest software now? Charging continues; the supervisor restarts at the end.")) return;
    status.clear();
    button.disabled = true;
    bar.value = 0;
    wrap.hidden = false;
    text.textContent = "starting…";
    try {
      const state = await api.post("/system/update", {});
      if (showState(state)) timer = setTimeout(poll, 1000);
      else button.disabled = false;
    } catch (error) {
      button.disabled = false;
      wrap.hidden = true;
      status.error(error.message);
    }
  });

  const available = h("p", { class: "hint" });
  const el = h(
    "section",
    { class: "card", "aria-labelledby": "upd-title" },
    h("h2", { id: "upd-title" }, "Software update"),
    available,
    button,
    wrap,
    status.el,
  );
  return {
    el,
    setAvailable(system) {
      available.textContent = system.updates_available
        ? "An update is available."
        : "No update is known to be available; updating checks again.";
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
