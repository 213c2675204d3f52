/**
 * Calls to the admin API and the dashboard API with the signed-in token. The token lives in
 * sessionStorage: it is gone when the tab closes, and other tabs never see it.
 */
const KEY = 'switchyard.dashboard.token';

/** The dashboard's own base path (`/dashboard/`), whatever prefix it is mounted at. */
export const BASE = new URL('.', window.location.href).pathname;
export const ADMIN = '/admin/v1';

export function token() {
  return window.sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) window.sessionStorage.setItem(KEY, value);
  else window.sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details ?? [];
  }
}

async function request(url, { method = 'GET', body, accept = 'application/json', signal } = {}) {
  const headers = { authorization: `Bearer ${token() ?? ''}`, accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    signal,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) {
    let err = null;
    try {
      err = (await res.json()).error;
    } catch {
      // not the error envelope
    }
    throw new ApiError(
      res.status,
      err?.code ?? 'http_error',
      err?.message ?? `HTTP ${res.status}`,
      err?.details,
    );
  }
  if (accept !== 'application/json') return res.text();
  return res.status === 204 ? null : res.json();
}

/** `admin('/tenants')` calls /admin/v1/tenants. */
export function admin(path, opts) {
  return request(`${ADMIN}${path}`, opts);
}

/** `dash('fleet')` calls the dashboard's own API. */
export function dash(path, opts) {
  return request(`${BASE}api/${path}`, opts);
}

export const enc = encodeURIComponent;

/** Whether the admin API offers an operation (from its public OpenAPI document), cached. */
let openapi = null;
export async function hasOperation(method, path) {
  if (!openapi) {
    openapi = fetch(`${ADMIN}/openapi.json`)
      .then((r) => (r.ok ? r.json() : { paths: {} }))
      .catch(() => ({ paths: {} }));
  }
  const doc = await openapi;
  return Boolean(doc.paths?.[`${ADMIN}${path}`]?.[method.toLowerCase()]);
}
