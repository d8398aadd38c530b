// What the UI knows right now, and who wants to hear when it changes.

const listeners = new Map();

export const store = {
  me: null, // GET /auth/me
  snapshot: null, // the supervisor's snapshot: pilot_connected, line_limit_a, line_a, stations[]
  clockOffset: 0, // server epoch - browser epoch (s), from message times
  live: "offline",
  site: null,
  prices: null,
};

export function on(topic, handler) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(handler);
  return () => listeners.get(topic).delete(handler);
}

export function emit(topic, payload) {
  for (const handler of listeners.get(topic) || []) {
    try {
      handler(payload);
    } catch (error) {
      console.warn(`handler for ${topic} failed`, error);
    }
  }
}

export function serverNow() {
  return Date.now() / 1000 + store.clockOffset;
}

export function noteServerTime(t) {
  if (typeof t === "number" && Number.isFinite(t)) store.clockOffset = t - Date.now() / 1000;
}

export function setSnapshot(snapshot, t) {
  noteServerTime(t);
  store.snapshot = snapshot;
  emit("snapshot", snapshot);
}

/** One station's view changed (a pilot state or fault event): patch it into the snapshot. */
export function setStation(view, t) {
  noteServerTime(t);
  if (!store.snapshot || !view || typeof view.id !== "number") return;
  const stations = store.snapshot.stations.map((s) => (s.id === view.id ? { ...s, ...view } : s));
  store.snapshot = { ...store.snapshot, stations };
  emit("snapshot", store.snapshot);
}
