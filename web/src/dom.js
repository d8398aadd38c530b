// A tiny DOM builder: h("div", {class: "x", onclick: f}, "text", child, [more]).

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "class") {
        el.className = value;
      } else if (key === "dataset") {
        Object.assign(el.dataset, value);
      } else if (key === "value" || key === "checked" || key === "selected") {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? "" : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Set text only when it changed (keeps live updates cheap and screen readers calm). */
export function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let uid = 0;
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: label + control (+ optional hint), wired by id. */
export function field(label, control, hint) {
  const controlId = control.id || id("f");
  control.id = controlId;
  let hintEl = null;
  if (hint) {
    hintEl = h("small", { class: "hint", id: `${controlId}-hint` }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: controlId }, label), control, hintEl);
}

/** A status line for a form: role=status, shows success or the server's message. */
export function statusLine() {
  const el = h("p", { class: "form-status", role: "status" });
  return {
    el,
    ok(message) {
      el.className = "form-status ok";
      el.textContent = message;
    },
    error(message) {
      el.className = "form-status error";
      el.textContent = message;
    },
    clear() {
      el.className = "form-status";
      el.textContent = "";
    },
  };
}
