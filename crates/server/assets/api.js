// The API client: one place for the session, the CSRF header and error handling.

/** The logged-in user as `/api/me` describes them, or null. */
export const session = { me: null };

export const can = (p) => !!session.me && session.me.permissions.includes(p);

/** A refused request: the server's message, its HTTP status, and for configuration changes the
 * keys at fault (`errors: [{ key, message }]`). */
export class ApiError extends Error {
  constructor(message, status, errors = []) {
    super(message);
    this.status = status;
    this.errors = errors;
  }
}

let sessionEnded = () => {};
/** Called when the server says the session is gone (401 on anything but the login itself). */
export function onSessionEnd(fn) { sessionEnded = fn; }

export async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = session.me ? session.me.csrf_token : '';
  if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
  const r = await fetch(path, opts);
  const type = r.headers.get('content-type') || '';
  const data = type.includes('json') ? await r.json() : await r.text();
  if (r.status === 401 && session.me && path !== '/api/login') sessionEnded('Your session has ended: log in again.');
  if (!r.ok) throw new ApiError((data && data.error) || `HTTP ${r.status}`, r.status, (data && data.errors) || []);
  return data;
}
