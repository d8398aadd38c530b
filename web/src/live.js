// The WebSocket /api/v1/ws: a full snapshot on connect, then pilot state/fault events at once
// and a snapshot at least once a second. Reconnects with backoff; every snapshot replaces the
// whole picture, so a missed message heals itself.

export class Live {
  constructor({ onSnapshot, onStation, onEvent, onStatus }) {
    this.handlers = { onSnapshot, onStation, onEvent, onStatus };
    this.ws = null;
    this.stopped = true;
    this.retryMs = 500;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
    this.handlers.onStatus?.("offline");
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    this.ws = ws;
    this.handlers.onStatus?.("connecting");
    ws.onopen = () => {
      this.retryMs = 500;
      this.handlers.onStatus?.("live");
    };
    ws.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      this.dispatch(data);
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      this.ws = null;
      if (this.stopped) return;
      this.handlers.onStatus?.("reconnecting");
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  dispatch(msg) {
    const t = typeof msg.t === "number" ? msg.t : undefined;
    if (msg.type === "snapshot" && msg.data) {
      this.handlers.onSnapshot?.(msg.data, t);
    } else if (Array.isArray(msg.stations) && !msg.type && !msg.event) {
      this.handlers.onSnapshot?.(msg, t);
    } else if (msg.station && typeof msg.station === "object") {
      // {"type": "state"|"fault", "event": {...pilot event...}, "station": station_view}
      this.handlers.onStation?.(msg.station, t);
      this.handlers.onEvent?.(msg.event || msg, t);
    } else if (msg.event || msg.type) {
      this.handlers.onEvent?.(msg.event && typeof msg.event === "object" ? msg.event : msg, t);
    }
  }
}
