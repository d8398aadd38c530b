// System: version, uptime, hardware or simulated HAT, the pilot link, MQTT, OCPP, software update.

import * as api from "./api.js";
import { field, h, setText, statusLine } from "./dom.js";
import { dateTime, duration } from "./format.js";
import { describeMqtt } from "./mqtt.js";
import { describeOcpp } from "./settings.js";
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
    row("HTTPS certificate (SHA-256)", "tls"),
    row("MQTT", "mqtt"),
    row("OCPP", "ocpp"),
  );
  values.tls.classList.add("mono", "fingerprint");

  let system = null;
  let mqtt = null;
  let fetchedAt = 0;

  function show() {
    if (!system) return;
    setText(values.version, system.version);
    setText(values.uptime, duration((system.uptime_s ?? 0) + (Date.now() - fetchedAt) / 1000));
    setText(values.started, dateTime(system.started));
    setText(values.hat, system.hat === "hardware" ? "EVSE HAT (hardware)" : "simulated HAT");
    const connected = store.snapshot ? store.snapshot.pilot_connected : system.pilot_connected;
    setText(values.pilot, connected ? "connected" : system.pilot_problem || "not connected");
    setText(values.reconnects, system.pilot_reconnects ?? "–");
    setText(values.live, store.live);
    // Compare with the fingerprint the browser shows for this charger's self-signed certificate.
    setText(values.tls, system.tls_fingerprint || "HTTPS is off");
    setText(values.mqtt, mqtt ? describeMqtt(mqtt) : "–");
  }

  async function load() {
    try {
      [system, mqtt] = await Promise.all([api.get("/system"), api.get("/mqtt")]);
      fetchedAt = Date.now();
      show();
      update.setAvailable(system);
    } catch (error) {
      status.error(error.message);
    }
    loadOcpp();
  }

  async function loadOcpp() {
    try {
      setText(values.ocpp, describeOcpp(await api.get("/ocpp")));
    } catch (error) {
      setText(values.ocpp, error.message);
    }
  }

  const update = updatePanel(load);
  load();
  const timer = setInterval(show, 1000);
  const ocppTimer = setInterval(loadOcpp, 5000);
  const off = on("snapshot", show);
  root.append(
    h("div", { class: "settings" }, h("section", { class: "card", "aria-labelledby": "sys-title" }, h("h2", { id: "sys-title" }, "Appliance"), info, status.el), update.el),
  );
  return () => {
    clearInterval(timer);
    clearInterval(ocppTimer);
    off();
    update.stop();
  };
}

const FINISHED = new Set(["idle", "done", "rolled_back", "failed", "rejected"]);
const FAILED = new Set(["rolled_back", "failed", "rejected"]);

/** Upload a signed bundle with XHR (for the upload's own progress), then follow GET /system/update. */
function upload(file, force, allowDowngrade, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const params = { force: force ? "true" : undefined, allow_downgrade: allowDowngrade ? "true" : undefined };
    xhr.open("POST", api.url("/system/update", params));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    if (api.csrf()) xhr.setRequestHeader("X-CSRF-Token", api.csrf());
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onerror = () => reject(new api.ApiError(0, "the upload failed (network error)"));
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = xhr.responseText;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new api.ApiError(xhr.status, api.describe(data?.detail ?? data, xhr.status)));
    };
    xhr.send(file);
  });
}

function updatePanel(reload) {
  const status = statusLine();
  const bar = h("progress", { max: 100, value: 0, "aria-label": "Update progress" });
  const text = h("p", { class: "hint", role: "status" });
  const wrap = h("div", { class: "update-progress", hidden: true }, bar, text);
  const file = h("input", { type: "file", accept: ".tar,.tar.gz,.tgz,.bundle,application/octet-stream" });
  const force = h("input", { type: "checkbox" });
  const downgrade = h("input", { type: "checkbox" });
  const button = h("button", { type: "submit" }, "Upload and install");
  const available = h("p", { class: "hint" });
  let timer = null;
  let stopped = false;

  function show(state) {
    wrap.hidden = false;
    const pct = Math.max(0, Math.min(100, (state.progress ?? 0) * 100));
    bar.value = pct;
    text.textContent = `${state.state}${state.message ? `: ${state.message}` : ""} (${pct.toFixed(0)} %)`;
    if (FAILED.has(state.state)) status.error(state.message || `update ${state.state}`);
    else if (state.state === "done") status.ok(state.message || "updated");
  }

  async function follow(failures = 0) {
    if (stopped) return;
    let state;
    try {
      state = await api.get("/system/update");
    } catch (error) {
      // the supervisor restarts at the end of an update: keep asking for a while
      if (failures < 60) timer = setTimeout(() => follow(failures + 1), 2000);
      else status.error(error.message);
      return;
    }
    show(state);
    if (FINISHED.has(state.state)) {
      button.disabled = false;
      reload();
    } else {
      timer = setTimeout(() => follow(0), 1000);
    }
  }

  const form = h(
    "form",
    {
      "aria-label": "Software update",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        const bundle = file.files && file.files[0];
        if (!bundle) {
          status.error("choose an update bundle first");
          return;
        }
        button.disabled = true;
        show({ state: "uploading", progress: 0, message: bundle.name });
        try {
          const answer = await upload(bundle, force.checked, downgrade.checked, (f) => show({ state: "uploading", progress: 0.3 * f, message: bundle.name }));
          if (answer?.warning) status.ok(answer.warning);
          if (answer?.status) show(answer.status);
          follow();
        } catch (error) {
          button.disabled = false;
          status.error(error.message);
        }
      },
    },
    field("Update bundle", file, "a signed bundle from the project's releases"),
    h("label", { class: "check" }, force, " Install even while a car charges (charging stops for a moment)"),
    h("label", { class: "check" }, downgrade, " Allow going back to an older version (it may lack security fixes)"),
    h("div", { class: "actions" }, button),
  );

  const el = h(
    "section",
    { class: "card", "aria-labelledby": "upd-title" },
    h("h2", { id: "upd-title" }, "Software update"),
    available,
    form,
    wrap,
    status.el,
  );
  return {
    el,
    setAvailable(system) {
      const can = Boolean(system.updates_available);
      form.hidden = !can;
      available.textContent = can
        ? `Running ${system.version}. Upload a signed bundle to install another version; a failed update rolls back by itself.`
        : `Running ${system.version}. Software updates are not available in this build (a development or simulated install updates through git and pip).`;
      if (can && !timer) {
        api.get("/system/update").then((state) => {
          if (state && state.state && state.state !== "idle") {
            show(state);
            if (!FINISHED.has(state.state)) follow();
          }
        }).catch(() => {});
      }
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
