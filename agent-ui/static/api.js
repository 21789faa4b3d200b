// api.js: the console's HTTP helpers (same-origin JSON with the session cookie).

export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// loginURL is /login with ?next= the current page, for an expired session.
export function loginURL() {
  const next = location.pathname + location.search;
  return '/login?next=' + encodeURIComponent(next);
}

// api performs a JSON request. 401 sends the browser to the login page
// (unless noRedirect). Errors are APIError with the server's {"error"} text.
export async function api(method, path, body, { noRedirect = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, 'network');
  }
  if (res.status === 401 && !noRedirect) {
    location.assign(loginURL());
    throw new APIError(401, 'unauthorized');
  }
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    throw new APIError(res.status, (data && data.error) || res.statusText || String(res.status));
  }
  return data;
}

// safeNext accepts only a same-origin absolute path.
export function safeNext(next, fallback = '/agent') {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return fallback;
  }
  return next;
}

// safeURL returns a URL usable as a link target (same-origin path or http/https) or ''.
export function safeURL(u) {
  if (typeof u !== 'string' || u === '') return '';
  if (u.startsWith('/') && !u.startsWith('//')) return u;
  try {
    const p = new URL(u);
    return p.protocol === 'https:' || p.protocol === 'http:' ? p.href : '';
  } catch {
    return '';
  }
}
