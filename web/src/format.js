// Numbers, times and durations the way the UI shows them.

const dash = "–";

export function num(value, digits = 1) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : dash;
}

export function amps(value) {
  return typeof value === "number" && Number.isFinite(value) ? `${value.toFixed(1)} A` : dash;
}

export function volts(value) {
  return typeof value === "number" && Number.isFinite(value) ? `${value.toFixed(0)} V` : dash;
}

export function watts(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return dash;
  return Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(2)} kW` : `${value.toFixed(0)} W`;
}

export function kwh(value) {
  return typeof value === "number" && Number.isFinite(value) ? `${value.toFixed(2)} kWh` : dash;
}

export function duration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return dash;
  const s = Math.floor(seconds);
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes > 0) return `${minutes} min ${String(s % 60).padStart(2, "0")} s`;
  return `${s % 60} s`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function clock(epochS) {
  return typeof epochS === "number" && Number.isFinite(epochS) ? timeFmt.format(new Date(epochS * 1000)) : dash;
}

export function dateTime(epochS) {
  return typeof epochS === "number" && Number.isFinite(epochS) ? dateTimeFmt.format(new Date(epochS * 1000)) : dash;
}

export function day(epochS) {
  return dayFmt.format(new Date(epochS * 1000));
}

export function price(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(3) : dash;
}

/** epoch seconds -> value for <input type="datetime-local"> (local time) */
export function toLocalInput(epochS) {
  if (typeof epochS !== "number" || !Number.isFinite(epochS)) return "";
  const d = new Date(epochS * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value) {
  if (!value) return null;
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? t / 1000 : null;
}
