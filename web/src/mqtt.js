// MQTT: the broker setting (Settings page) and the link's state in a sentence (System page).

import * as api from "./api.js";
import { field, h, statusLine } from "./dom.js";
import { dateTime } from "./format.js";

/** GET /mqtt's link state for people: connected since, or why not. */
export function describeMqtt(info) {
  if (!info.enabled || !info.url) return "off";
  const link = info.link || {};
  if (link.state === "connected") return `connected to ${info.url} since ${dateTime(link.connected_since)}`;
  const why = link.last_error ? `: ${link.last_error}` : "";
  return `${link.state === "connecting" ? "connecting to" : "not connected to"} ${info.url}${why}`;
}

export function mqttCard() {
  const status = statusLine();
  const enabled = h("input", { type: "checkbox" });
  const url = h("input", {
    type: "text",
    inputmode: "url",
    maxlength: 500,
    pattern: "mqtts?://.+",
    title: "mqtt://HOST[:PORT] or mqtts://HOST[:PORT]",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "mqtt://homeassistant.local:1883",
  });
  const password = h("input", { type: "password", maxlength: 200, autocomplete: "new-password" });
  const base = h("input", { type: "text", maxlength: 120, spellcheck: "false" });
  const prefix = h("input", { type: "text", maxlength: 120, spellcheck: "false" });
  const readOnly = h("input", { type: "checkbox" });
  const report = h("p", { class: "hint", id: "mqtt-status" });
  const save = h("button", { type: "submit" }, "Save MQTT settings");

  function fill(info) {
    enabled.checked = Boolean(info.enabled);
    url.value = info.url || "";
    password.value = "";
    password.placeholder = info.password_set ? "stored; type to replace" : "none";
    base.value = info.base_topic;
    prefix.value = info.discovery_prefix;
    readOnly.checked = Boolean(info.read_only);
    report.textContent = describeMqtt(info);
  }

  async function load() {
    try {
      fill(await api.get("/mqtt"));
    } catch (error) {
      status.error(error.message);
    }
  }

  const form = h(
    "form",
    {
      "aria-label": "MQTT",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        const body = {
          enabled: enabled.checked,
          url: url.value.trim() || null,
          base_topic: base.value.trim(),
          discovery_prefix: prefix.value.trim(),
          read_only: readOnly.checked,
        };
        if (password.value) body.password = password.value;
        save.disabled = true;
        try {
          fill(await api.put("/mqtt", body));
          status.ok("saved; the appliance connects with the new setting");
        } catch (error) {
          status.error(error.message);
        } finally {
          save.disabled = false;
        }
      },
    },
    report,
    h("label", { class: "check" }, enabled, " Publish to an MQTT broker (Home Assistant discovery)"),
    field("Broker URL", url, "mqtt://HOST[:PORT], or mqtts:// for TLS; USER@ for a broker user"),
    field("Password", password, "the broker user's; left empty, the stored one stays"),
    h(
      "div",
      { class: "row" },
      field("Base topic", base, "the appliance's topics start with this"),
      field("Discovery prefix", prefix, "Home Assistant's, usually homeassistant"),
    ),
    h("label", { class: "check" }, readOnly, " Read-only: publish state, take no commands"),
    h("div", { class: "actions" }, save),
    status.el,
  );
  load();
  const title = h("h2", { id: "s-mqtt" }, "MQTT and Home Assistant");
  return h("section", { class: "card", "aria-labelledby": "s-mqtt" }, title, form);
}
