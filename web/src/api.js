// The REST API under /api/v1: JSON in and out, the session cookie rides along, and every
// change carries the CSRF token from the login answer in X-CSRF-Token.

const BASE = "/api/v1";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
let csrfToken = null;
const unauthorizedHandlers = [];

export function csrf() {
  return csrfToken;
}

export function setCsrf(token) {
  csrfToken = token || null;
}

export function onUnauthorized(handler) {
  unauthorizedHandlers.push(handler);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** FastAPI's error bodies, as one sentence a user can act on. */
export function describe(detail, status) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        const where = (d.loc || []).filter((p) => p !== "body" && p !== "query").join(".");
        return where ? `${where}: ${d.msg}` : d.msg;
      })
      .join("; ");
  }
  if (detail && typeof detail === "object" && detail.message) return detail.message;
  return `request failed (HTTP ${status})`;
}

export function url(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${BASE}${path}${qs ? `?${qs}` : ""}`;
}

export async function request(method, path, { body, query } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!SAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "the appliance does not answer (network error)");
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith("/auth/")) unauthorizedHandlers.forEach((f) => f());
    const message = describe(data && typeof data === "object" ? data.detail : data, response.status);
    throw new ApiError(response.status, message);
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body) => request("POST", path, { body: body ?? {} });
export const put = (path, body) => request("PUT", path, { body });
export const patch = (path, body) => request("PATCH", path, { body });
export const del = (path) => request("DELETE", path);

/** Lists come bare or wrapped ({items, total} or {<name>: [...]}). */
export function items(data, ...names) {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== "object") return [];
  for (const name of ["items", ...names]) if (Array.isArray(data[name])) return data[name];
  return [];
}
