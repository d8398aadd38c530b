// Settings: the site (line limit, price threshold), the stations' installation (rating, phase
// rotation, name), where prices come from (with how the last fetch went), the OCPP central
// system, the MQTT broker, API tokens (create, see once, revoke) and the password.

import * as api from "./api.js";
import { field, h, statusLine } from "./dom.js";
import { dateTime } from "./format.js";
import { mqttCard } from "./mqtt.js";
import { store } from "./store.js";

const ROTATIONS = [
  [1, 2, 3],
  [2, 3, 1],
  [3, 1, 2],
  [1, 3, 2],
  [2, 1, 3],
  [3, 2, 1],
];

function card(title, ...children) {
  const headingId = `s-${title.toLowerCase().replace(/[^a-z]+/g, "-")}`;
  return h("section", { class: "card", "aria-labelledby": headingId }, h("h2", { id: headingId }, title), ...children);
}

export function renderSettings(root) {
  root.append(h("h1", { class: "visually-hidden" }, "Settings"));
  const grid = h("div", { class: "settings" });
  root.append(grid);
  const site = siteCard();
  grid.append(site.el, pricesCard(), ocppCard(), mqttCard(), tokensCard(), passwordCard());
  return () => {};
}

function numberInput(attrs) {
  return h("input", { type: "number", inputmode: "decimal", ...attrs });
}

function siteCard() {
  const status = statusLine();
  const lineLimit = numberInput({ min: 6, max: 80, step: 1, required: true });
  const voltage = numberInput({ min: 100, max: 260, step: 1 });
  const threshold = numberInput({ step: 0.001, placeholder: "none" });
  const readOnly = h("input", { type: "checkbox" });
  const retention = numberInput({ min: 1, max: 3650, step: 1 });
  const stationRows = h("div", { class: "station-hw" });
  const stationInputs = new Map();
  const save = h("button", { type: "submit" }, "Save site settings");

  function fill(site) {
    lineLimit.value = site.line_limit_a;
    voltage.value = site.voltage_v;
    threshold.value = site.price_threshold ?? "";
    readOnly.checked = Boolean(site.read_only_without_login);
    retention.value = site.telemetry_retention_days ?? "";
    stationRows.replaceChildren();
    stationInputs.clear();
    for (const st of site.stations || []) {
      const name = h("input", { type: "text", maxlength: 40, value: st.name || "", placeholder: `Station ${st.id}` });
      const rating = numberInput({ min: 6, max: 80, step: 1, value: st.rating_a });
      const rotation = h(
        "select",
        null,
        ROTATIONS.map((r) =>
          h(
            "option",
            { value: r.join(","), selected: r.join(",") === (st.phase_rotation || [1, 2, 3]).join(",") },
            `L1→${r[0]}, L2→${r[1]}, L3→${r[2]}`,
          ),
        ),
      );
      stationInputs.set(st.id, { name, rating, rotation, original: st });
      stationRows.append(
        h(
          "fieldset",
          { class: "station-fieldset" },
          h("legend", null, `Station ${st.id}`),
          field(`Station ${st.id} name`, name),
          field(`Station ${st.id} rating (A)`, rating),
          field(`Station ${st.id} phase rotation`, rotation, "which line phase feeds the station's L1, L2, L3"),
        ),
      );
    }
  }

  async function load() {
    try {
      const site = await api.get("/site");
      store.site = site;
      fill(site);
    } catch (error) {
      status.error(error.message);
    }
  }

  const form = h(
    "form",
    {
      "aria-label": "Site settings",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        const body = {
          line_limit_a: Number(lineLimit.value),
          voltage_v: voltage.value === "" ? undefined : Number(voltage.value),
          price_threshold: threshold.value === "" ? null : Number(threshold.value),
          read_only_without_login: readOnly.checked,
          telemetry_retention_days: retention.value === "" ? undefined : Number(retention.value),
          stations: [...stationInputs.entries()].map(([sid, i]) => ({
            id: sid,
            rating_a: Number(i.rating.value),
            phase_rotation: i.rotation.value.split(",").map(Number),
          })),
        };
        save.disabled = true;
        try {
          const site = await api.put("/site", body);
          for (const [sid, i] of stationInputs) {
            if ((i.name.value || "") !== (i.original.name || "")) await api.patch(`/stations/${sid}`, { name: i.name.value });
          }
          store.site = site;
          fill(site);
          status.ok("saved");
        } catch (error) {
          status.error(error.message);
        } finally {
          save.disabled = false;
        }
      },
    },
    h(
      "div",
      { class: "row" },
      field("Line limit per phase (A)", lineLimit, "the supply fuse; never exceeded"),
      field("Voltage (V)", voltage, "phase to neutral"),
    ),
    h(
      "div",
      { class: "row" },
      field("Price threshold (per kWh)", threshold, "low-cost charges at or under this; empty = none"),
      field("Keep raw telemetry (days)", retention),
    ),
    h("label", { class: "check" }, readOnly, " Allow reading without login (on the LAN)"),
    stationRows,
    h("div", { class: "actions" }, save),
    status.el,
  );
  load();
  return { el: card("Site", form) };
}

/** What GET /prices says about the source and the prices known, in a sentence or three. */
function describePrices(prices) {
  const source = prices.source || { kind: "manual" };
  const slots = api.items(prices, "slots");
  const known = slots.length
    ? `${slots.length} slots known, until ${dateTime(slots[slots.length - 1].end)}.`
    : "No prices known yet.";
  if (source.kind !== "url") return `Prices are sent to PUT /api/v1/prices. ${known}`;
  const st = source.status || {};
  let fetched = `Fetched ${dateTime(st.last_success)}: ${st.slots} slots.`;
  if (st.last_attempt == null) fetched = "Not fetched yet.";
  else if (st.last_error) {
    fetched = `Last fetch ${dateTime(st.last_attempt)} failed: ${st.last_error}.`;
    if (st.last_success != null) fetched += ` Last good fetch ${dateTime(st.last_success)}: ${st.slots} slots.`;
  }
  const next = st.next_attempt != null ? ` Next fetch ${dateTime(st.next_attempt)}.` : "";
  return `${fetched}${next} ${known}`;
}

function pricesCard() {
  const status = statusLine();
  const kind = h(
    "select",
    null,
    h("option", { value: "manual" }, "Sent to the API (PUT /api/v1/prices)"),
    h("option", { value: "url" }, "Fetched from a URL"),
  );
  const url = h("input", {
    type: "url",
    inputmode: "url",
    required: true,
    maxlength: 2083,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://api.awattar.de/v1/marketdata",
  });
  const format = h(
    "select",
    null,
    h("option", { value: "evse" }, "EVSE JSON, per kWh"),
    h("option", { value: "awattar" }, "aWATTar, EUR/MWh"),
  );
  const refresh = numberInput({ min: 300, max: 86400, step: 1, required: true });
  const surcharge = numberInput({ min: -10, max: 10, step: "any", required: true });
  const factor = numberInput({ min: 0.01, max: 10, step: "any", required: true });
  const market = h(
    "fieldset",
    null,
    h("legend", null, "Market price to price per kWh"),
    h(
      "div",
      { class: "row" },
      field("Surcharge (per kWh)", surcharge, "grid fees and levies, added to the market price"),
      field("Factor", factor, "applied to the sum, e.g. 1.19 for 19 % VAT"),
    ),
  );
  const feed = h(
    "fieldset",
    null,
    h("legend", null, "Price feed"),
    field("Feed URL", url, "http or https"),
    field("Format", format, "EVSE: [{start, end, price}]; aWATTar: market prices"),
    field("Refresh every (s)", refresh, "300 to 86400"),
    market,
  );
  const report = h("p", { class: "hint", id: "price-source-status" });
  const save = h("button", { type: "submit" }, "Save price source");

  function show() {
    // a disabled fieldset leaves its inputs out of the form's checks as well as out of sight
    feed.hidden = feed.disabled = kind.value !== "url";
    market.hidden = market.disabled = format.value !== "awattar";
  }

  function fill(source) {
    kind.value = source.kind;
    url.value = source.url || "";
    format.value = source.format || "evse";
    refresh.value = source.refresh_s ?? 3600;
    surcharge.value = source.surcharge ?? 0;
    factor.value = source.factor ?? 1;
    show();
  }

  async function load() {
    const prices = await api.get("/prices");
    fill(prices.source || { kind: "manual" });
    report.textContent = describePrices(prices);
    return prices.source;
  }

  const form = h(
    "form",
    {
      "aria-label": "Price source",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        let body = { kind: "manual" };
        if (kind.value === "url") {
          body = { kind: "url", url: url.value.trim(), format: format.value, refresh_s: Number(refresh.value) };
          if (format.value === "awattar") Object.assign(body, { surcharge: Number(surcharge.value), factor: Number(factor.value) });
        }
        save.disabled = true;
        try {
          store.site = await api.put("/site", { price_source: body });
          const source = await load();
          const error = source.status?.last_error;
          if (error) status.error(`saved, but the fetch failed: ${error}`);
          else status.ok(source.kind === "url" ? `saved; ${source.status?.slots ?? 0} slots fetched` : "saved");
        } catch (error) {
          status.error(error.message);
        } finally {
          save.disabled = false;
        }
      },
    },
    field("Prices come from", kind),
    feed,
    report,
    h("div", { class: "actions" }, save),
    status.el,
  );
  kind.addEventListener("change", show);
  format.addEventListener("change", show);
  load().catch((error) => status.error(error.message));
  return card("Prices", form);
}

/** The OCPP link in a sentence: state, charge point id, last error, what waits to be sent. */
export function describeOcpp(ocpp) {
  const link = ocpp.link || { state: "disabled" };
  if (!ocpp.enabled || link.state === "disabled") return "OCPP is off.";
  let text = `Link ${link.state}`;
  if (ocpp.registration) text += ` (${ocpp.registration})`;
  text += ` as "${ocpp.charge_point_id}".`;
  if (link.last_error && link.state !== "connected") text += ` Last error: ${link.last_error}.`;
  text += ` ${link.messages_sent ?? 0} messages sent, ${link.messages_received ?? 0} received,`;
  text += ` ${link.reconnects ?? 0} reconnects, ${ocpp.queued_transaction_messages ?? 0} transaction messages queued.`;
  return text;
}

function ocppCard() {
  const status = statusLine();
  const enabled = h("input", { type: "checkbox" });
  const url = h("input", {
    type: "text",
    maxlength: 500,
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "ws://evcc.local:8887/evse-1",
    pattern: "wss?:\\/\\/[^\\/\\s]+\\/(.*\\/)?[^\\/\\s]+",
    title: "ws://host:port/path/<charge point id>",
  });
  const password = h("input", { type: "password", maxlength: 100, autocomplete: "new-password" });
  const clearPassword = h("input", { type: "checkbox" });
  const idTag = h("input", { type: "text", maxlength: 20, required: true });
  const report = h("p", { class: "hint", id: "ocpp-status" });
  const save = h("button", { type: "submit" }, "Save OCPP settings");

  function fill(ocpp) {
    enabled.checked = Boolean(ocpp.enabled);
    url.value = ocpp.url || "";
    password.value = "";
    password.placeholder = ocpp.password_set ? "set (leave empty to keep)" : "none";
    clearPassword.checked = false;
    idTag.value = ocpp.id_tag || "";
    report.textContent = describeOcpp(ocpp);
  }

  async function load() {
    fill(await api.get("/ocpp"));
  }

  const form = h(
    "form",
    {
      "aria-label": "OCPP",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        const body = { enabled: enabled.checked, url: url.value.trim() || null, id_tag: idTag.value.trim() };
        if (password.value) body.password = password.value;
        else if (clearPassword.checked) body.password = null;
        save.disabled = true;
        try {
          fill(await api.put("/ocpp", body));
          status.ok("saved");
        } catch (error) {
          status.error(error.message);
        } finally {
          save.disabled = false;
        }
      },
    },
    h("label", { class: "check" }, enabled, " Connect to an OCPP 1.6J central system"),
    field("Central system URL", url, "ws[s]://host:port/path/<charge point id>, e.g. evcc's ws://host:8887/<id>"),
    h(
      "div",
      { class: "row" },
      field("Central system password", password, "HTTP Basic auth (security profiles 1 and 2); never shown"),
      field("idTag for free vending", idTag, "used when a car starts charging on its own"),
    ),
    h("label", { class: "check" }, clearPassword, " Remove the password"),
    report,
    h("div", { class: "actions" }, save),
    status.el,
  );
  load().catch((error) => status.error(error.message));
  return card("OCPP", form);
}

function tokensCard() {
  const status = statusLine();
  const body = h("tbody");
  const name = h("input", { type: "text", maxlength: 40, required: true, pattern: "[\\w .@:+\\-]+", placeholder: "wallbox display" });
  const scope = h(
    "select",
    null,
    h("option", { value: "read" }, "read"),
    h("option", { value: "control" }, "control"),
    h("option", { value: "admin" }, "admin"),
  );
  const reveal = h("div", { class: "token-reveal", hidden: true });

  async function load() {
    try {
      const list = api.items(await api.get("/tokens"), "tokens");
      const live = list.filter((t) => !t.revoked);
      body.replaceChildren(
        ...live.map((t) =>
          h(
            "tr",
            { dataset: { token: t.id } },
            h("td", null, t.name),
            h("td", null, t.scope || (t.scopes || []).join(", ")),
            h("td", null, dateTime(t.created ?? t.created_t)),
            h("td", null, dateTime(t.last_used ?? t.last_used_t)),
            h(
              "td",
              null,
              h(
                "button",
                {
                  type: "button",
                  class: "danger",
                  "aria-label": `Revoke token ${t.name}`,
                  onclick: async (event) => {
                    if (!confirm(`Revoke the token "${t.name}"? Devices using it lose access at once.`)) return;
                    event.currentTarget.disabled = true;
                    try {
                      await api.del(`/tokens/${encodeURIComponent(t.id)}`);
                      status.ok(`revoked "${t.name}"`);
                    } catch (error) {
                      status.error(error.message);
                    }
                    load();
                  },
                },
                "Revoke",
              ),
            ),
          ),
        ),
      );
      if (!live.length) body.append(h("tr", null, h("td", { colspan: 5 }, "No API tokens.")));
    } catch (error) {
      status.error(error.message);
    }
  }

  const create = h(
    "form",
    {
      class: "row",
      "aria-label": "New API token",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        try {
          const created = await api.post("/tokens", { name: name.value.trim(), scope: scope.value });
          const value = h("input", { type: "text", readonly: true, value: created.token, "aria-label": "New token", class: "mono" });
          const copy = h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: async () => {
                value.select();
                try {
                  await navigator.clipboard.writeText(created.token);
                  copy.textContent = "Copied";
                } catch {
                  document.execCommand?.("copy");
                  copy.textContent = "Copied";
                }
              },
            },
            "Copy",
          );
          reveal.replaceChildren(
            h("p", null, h("strong", null, `Token "${created.name}" (${created.scope}). `), "Copy it now: it is shown only once."),
            h("div", { class: "row" }, value, copy),
            h("button", { type: "button", class: "secondary", onclick: () => ((reveal.hidden = true), reveal.replaceChildren()) }, "Done"),
          );
          reveal.hidden = false;
          name.value = "";
          load();
        } catch (error) {
          status.error(error.message);
        }
      },
    },
    field("Token name", name),
    field("Scope", scope, "read: look; control: modes and faults; admin: everything"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create token")),
  );
  load();
  const table = h(
    "table",
    { class: "data", "aria-label": "API tokens" },
    h("thead", null, h("tr", null, ["Name", "Scope", "Created", "Last used", ""].map((c) => h("th", { scope: "col" }, c)))),
    body,
  );
  return card("API tokens", h("p", { class: "hint" }, "For devices and scripts: send as 'Authorization: Bearer <token>'."), create, reveal, h("div", { class: "table-wrap" }, table), status.el);
}

function passwordCard() {
  const status = statusLine();
  const current = h("input", { type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const repeat = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const form = h(
    "form",
    {
      "aria-label": "Change password",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        if (next.value !== repeat.value) {
          status.error("the new passwords differ");
          return;
        }
        try {
          await api.post("/auth/password", { current: current.value, new: next.value });
          form.reset();
          status.ok("password changed");
        } catch (error) {
          status.error(error.message);
        }
      },
    },
    h("input", { type: "text", name: "username", autocomplete: "username", value: "admin", hidden: true }),
    field("Current password", current),
    field("New password", next, "at least 8 characters"),
    field("Repeat new password", repeat),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Change password")),
    status.el,
  );
  return card("Password", form);
}

