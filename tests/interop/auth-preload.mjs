// Preloaded into the conformance CLI (`node --import ./auth-preload.mjs …`) so that every HTTP
// request it sends to the server under test carries `Authorization: Bearer $INTEROP_BEARER_TOKEN`.
//
// The conformance suite has no option to send a header: its server scenarios talk to the server
// through the global `fetch` (the SDK client transport and most raw checks), through
// `undici.request` (the DNS-rebinding checks, which need a forged Host header) and through
// `http.request` (the SEP-2243 header-validation checks). All three are covered: `fetch` and
// `http.request` are wrapped, and undici's global dispatcher (which `undici.request` uses) gets an
// interceptor. Only requests to the origin of $INTEROP_AUTH_ORIGIN are touched, and a request
// that already carries an Authorization header is left alone.
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { Agent, setGlobalDispatcher } from 'undici';

const token = process.env.INTEROP_BEARER_TOKEN;
const target = process.env.INTEROP_AUTH_ORIGIN;

if (token && target) {
  const origin = new URL(target).origin;
  const value = `Bearer ${token}`;
  const sameOrigin = (url) => {
    try {
      return new URL(String(url)).origin === origin;
    } catch {
      return false;
    }
  };

  const realFetch = globalThis.fetch;
  globalThis.fetch = function fetchWithAuth(input, init) {
    const url = input instanceof Request ? input.url : String(input);
    if (!sameOrigin(url)) return realFetch(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization')) headers.set('authorization', value);
    return realFetch(input, { ...init, headers });
  };

  // undici dispatch options carry headers as an object, a flat [k, v, k, v] array, or an
  // iterable of [k, v] pairs.
  const withAuth = (headers) => {
    if (headers == null) return { authorization: value };
    if (Array.isArray(headers) && (headers.length === 0 || !Array.isArray(headers[0]))) {
      for (let i = 0; i < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === 'authorization') return headers;
      }
      return [...headers, 'authorization', value];
    }
    const entries = typeof headers[Symbol.iterator] === 'function' ? [...headers] : Object.entries(headers);
    if (entries.some(([k]) => String(k).toLowerCase() === 'authorization')) return headers;
    return [...entries.flat(), 'authorization', value];
  };
  const addAuth = (dispatch) => (opts, handler) =>
    dispatch(sameOrigin(opts.origin) ? { ...opts, headers: withAuth(opts.headers) } : opts, handler);
  setGlobalDispatcher(new Agent().compose(addAuth));

  // http.request(options[, callback]) and http.request(url[, options][, callback]).
  const targetOrigin = new URL(origin).origin;
  const realRequest = http.request;
  const optionsOrigin = (o) => {
    if (o.href !== undefined) return new URL(o.href).origin;
    const host = o.hostname ?? (o.host ?? 'localhost').replace(/:\d+$/, '');
    const port = o.port ?? o.defaultPort ?? 80;
    return `${o.protocol ?? 'http:'}//${host.includes(':') ? `[${host}]` : host}:${port}`;
  };
  const portless = (o) => new URL(o).origin; // normalises a default port away
  http.request = function requestWithAuth(...args) {
    let i = 0;
    let urlOrigin;
    if (typeof args[0] === 'string' || args[0] instanceof URL) urlOrigin = new URL(String(args[i++])).origin;
    const hasOptions = args[i] !== null && typeof args[i] === 'object';
    const options = hasOptions ? args[i] : {};
    let to;
    try {
      to = urlOrigin ?? portless(optionsOrigin(options));
    } catch {
      to = undefined;
    }
    if (to === targetOrigin) {
      const headers = { ...(options.headers ?? {}) };
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) headers.authorization = value;
      const patched = { ...options, headers };
      if (hasOptions) args[i] = patched;
      else args.splice(i, 0, patched);
    }
    return realRequest.apply(this, args);
  };
  syncBuiltinESMExports();
}
