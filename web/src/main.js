// The single page: first-run password setup, login, then the dashboard, history, settings and
// system views behind hash routes (#/history...), kept live over the WebSocket.

import "./style.css";
import * as api from "./api.js";
import { renderDashboard } from "./dashboard.js";
import { field, h, setText, statusLine } from "./dom.js";
import { renderHistory } from "./history.js";
import { Live } from "./live.js";
import { renderSettings } from "./settings.js";
import { emit, setSnapshot, setStation, store } from "./store.js";
import { renderSystem } from "./system.js";

const app = document.getElementById("app");
const VIEWS = {
  dashboard: ["Dashboard", renderDashboard],
  history: ["History", renderHistory],
  settings: ["Settings", renderSettings],
  system: ["System", renderSystem],
};

let live = null;
let cleanupView = null;
let shell = null;

let dropped = 0;

function liveStatus(state) {
  if (state === "live") dropped = 0;
  if (state === "reconnecting") {
    dropped += 1;
    // a session that expired looks like a dropped socket: ask who we are before trying on
    if (dropped === 3 && !document.body.classList.contains("read-only")) {
      api.get("/auth/me").then((me) => !me.authenticated && boot()).catch(() => {});
    }
  }
  store.live = state;
  emit("live", state);
  if (shell) {
    const words = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline" };
    setText(shell.liveEl, words[state] || state);
    shell.liveEl.className = `pill ${state === "live" ? "ok" : "bad"}`;
  }
}

async function boot() {
  let me;
  try {
    me = await api.get("/auth/me");
  } catch (error) {
    showMessage(`The appliance does not answer: ${error.message}`, boot);
    return;
  }
  store.me = me;
  api.setCsrf(me.csrf_token);
  if (!me.password_set) showSetup(me);
  else if (!me.authenticated) showLogin(me);
  else showApp();
}

function showMessage(text, retry) {
  stopApp();
  app.replaceChildren(
    h("main", { class: "auth" }, h("div", { class: "card" }, h("p", { role: "alert" }, text), h("button", { type: "button", onclick: retry }, "Try again"))),
  );
}

function authCard(title, intro, form) {
  return h(
    "main",
    { class: "auth" },
    h("div", { class: "card" }, h("div", { class: "brand big" }, logo(), " EVSE"), h("h1", null, title), intro && h("p", null, intro), form),
  );
}

function showSetup(me) {
  stopApp();
  const status = statusLine();
  // From another computer the first password needs the one-time code the charger shows its owner.
  const code = me?.setup_code_required
    ? h("input", { type: "text", name: "setup-code", autocomplete: "off", spellcheck: "false", required: true, maxlength: 12, placeholder: "ABCD-EFGH", class: "mono" })
    : null;
  const password = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const repeat = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: 10 });
  const submit = h("button", { type: "submit" }, "Set password");
  const form = h(
    "form",
    {
      "aria-label": "Set the password",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        if (password.value !== repeat.value) {
          status.error("the passwords differ");
          return;
        }
        submit.disabled = true;
        try {
          const body = { password: password.value };
          if (code) body.setup_code = code.value.trim();
          const result = await api.post("/auth/setup", body);
          if (!result?.csrf_token) await api.post("/auth/login", { password: password.value });
          await boot();
        } catch (error) {
          status.error(error.message);
          submit.disabled = false;
        }
      },
    },
    h("input", { type: "text", name: "username", autocomplete: "username", value: "admin", hidden: true }),
    code && field("Setup code", code, "printed when the charger starts and in evse-firstboot.txt on its SD card"),
    field("New password", password, "at least 10 characters"),
    field("Repeat password", repeat),
    submit,
    status.el,
  );
  app.replaceChildren(authCard("Welcome", "Choose the password that protects this charger's controls.", form));
  (code || password).focus();
}

function showLogin(me) {
  stopApp();
  const status = statusLine();
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h(
    "form",
    {
      "aria-label": "Log in",
      onsubmit: async (event) => {
        event.preventDefault();
        status.clear();
        submit.disabled = true;
        try {
          await api.post("/auth/login", { password: password.value });
          await boot();
        } catch (error) {
          status.error(error.status === 401 || error.status === 403 ? "wrong password" : error.message);
          submit.disabled = false;
          password.select();
        }
      },
    },
    h("input", { type: "text", name: "username", autocomplete: "username", value: "admin", hidden: true }),
    field("Password", password),
    submit,
    status.el,
    me?.read_only_without_login
      ? h("button", { type: "button", class: "link", onclick: () => showApp({ readOnly: true }) }, "Look without logging in")
      : null,
  );
  app.replaceChildren(authCard("Log in", null, form));
  password.focus();
}

function logo() {
  return h("span", { class: "logo", "aria-hidden": "true" }, "⚡");
}

function showApp({ readOnly = false } = {}) {
  stopApp();
  const links = Object.entries(VIEWS)
    .filter(([key]) => !(readOnly && key === "settings"))
    .map(([key, [label]]) => h("a", { href: `#/${key}`, dataset: { view: key } }, label));
  const liveEl = h("span", { class: "pill", role: "status", "aria-label": "Live updates" }, "Connecting…");
  const logout = readOnly
    ? h("button", { type: "button", class: "secondary", onclick: () => boot() }, "Log in")
    : h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: async () => {
            try {
              await api.post("/auth/logout", {});
            } catch {
              // the session may be gone already; the login page follows either way
            }
            api.setCsrf(null);
            boot();
          },
        },
        "Log out",
      );
  const main = h("main", { id: "view", tabindex: "-1" });
  app.replaceChildren(
    h(
      "header",
      { class: "top" },
      h("div", { class: "brand" }, logo(), " EVSE"),
      h("nav", { "aria-label": "Main" }, links),
      h("div", { class: "top-right" }, liveEl, logout),
    ),
    main,
  );
  shell = { main, links, liveEl };
  document.body.classList.toggle("read-only", readOnly);

  api
    .get("/status")
    .then((status) => {
      if (!store.snapshot) setSnapshot(status, status.t);
    })
    .catch(() => {});
  live = new Live({
    onSnapshot: setSnapshot,
    onStation: setStation,
    onEvent: (event) => emit("event", event),
    onStatus: liveStatus,
  });
  live.start();
  window.addEventListener("hashchange", route);
  route();
}

function stopApp() {
  window.removeEventListener("hashchange", route);
  if (cleanupView) cleanupView();
  cleanupView = null;
  if (live) live.stop();
  live = null;
  shell = null;
  store.snapshot = null;
}

function route() {
  if (!shell) return;
  const key = (location.hash.match(/^#\/(\w+)/) || [])[1];
  const readOnly = document.body.classList.contains("read-only");
  const view = VIEWS[key] && !(readOnly && key === "settings") ? key : "dashboard";
  if (cleanupView) cleanupView();
  shell.main.replaceChildren();
  shell.links.forEach((a) => (a.dataset.view === view ? a.setAttribute("aria-current", "page") : a.removeAttribute("aria-current")));
  document.title = `${VIEWS[view][0]} · EVSE`;
  cleanupView = VIEWS[view][1](shell.main) || null;
}

api.onUnauthorized(() => {
  if (shell && !document.body.classList.contains("read-only")) boot();
});

boot();
