#!/usr/bin/env node
// The MCP authorization flow (OAuth 2.1, MCP spec "Authorization") driven by the official MCP
// TypeScript SDK (@modelcontextprotocol/sdk: StreamableHTTPClientTransport + client/auth.js)
// against an OAuth-protected MCP server, with an in-memory OAuthClientProvider whose
// "browser" follows the authorization URL with plain HTTP GETs (see oidc-provider.mjs, which logs
// in and consents without a UI).
//
// Usage: node oauth-client.mjs --url MCP_ENDPOINT [--login jane] [--scope "mcp catalog.read"]
//                              [--call TOOL [--args JSON]] [--redirect-uri URI] [--timeout-ms N]
//
// The flow: connect → HTTP 401 with WWW-Authenticate: Bearer resource_metadata="…" → the SDK
// fetches the protected-resource metadata (RFC 9728), the authorization server's metadata
// (RFC 8414 / OIDC discovery), registers a public client dynamically (RFC 7591,
// token_endpoint_auth_method "none"), and builds the authorization URL (PKCE S256, state,
// resource = the metadata's `resource`, RFC 8707) → redirectToAuthorization follows it (manual
// redirects, cookie jar; `login_hint` = --login is added; --scope replaces the scope the SDK chose
// from the challenge / metadata) until the redirect_uri, checks state (and iss when present,
// RFC 9207) and keeps the code → transport.finishAuth(code) (token request with code_verifier and
// resource) → a fresh transport + Client connect with the access token → tools/list → optionally
// tools/call. A 403 insufficient_scope on a later request makes the SDK re-authorize with the
// challenge's scope (step-up); that round trip is followed once per request.
//
// Prints ONE JSON line on stdout, always:
//   {"ok":true|false, "url":…, "registered_client_id":"…", "redirect_uri":"…",
//    "authorization": {"scope":…, "resource":…, "code_challenge_method":…, "login_hint":…},
//    "token_header": {"alg","kid","typ"}, "token_claims": {decoded access-token payload},
//    "token_response": {"token_type","scope","expires_in","has_refresh_token"},
//    "tools": [names], "call": <CallToolResult or null>, "steps": [{"step":…, …}, …],
//    "error": "<why, when ok is false>"}
// `steps` lists every HTTP exchange in order ({"step": "mcp"|"protected-resource-metadata"|
// "authorization-server-metadata"|"register"|"authorize"|"token"|"other", "method", "url",
// "status"}) and the milestones ({"step":"client-information"|"authorize"|"redirect"|
// "unauthorized"|"finish-auth"|"connected"|"list-tools"|"call-tool"|"step-up", …}; "authorize"
// and "redirect" are the authorization request and the browser's hops to the redirect_uri).
// "token_claims"/"token_header" describe the LAST access token (after a step-up, the new one);
// "authorization" the FIRST authorization request.
// Exit 0 when every step passed (a tools/call answering isError: true still counts as passed;
// look at "call"); 1 on any failure, with the reason on stderr; 2 on a usage error.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes, randomInt } from 'node:crypto';

function usage(message) {
  if (message) console.error(`oauth-client: ${message}`);
  console.error('usage: node oauth-client.mjs --url MCP_ENDPOINT [--login USER] [--scope "mcp catalog.read"] [--call TOOL [--args JSON]] [--redirect-uri URI] [--timeout-ms N]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { timeoutMs: 20000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--url') opts.url = value();
    else if (a === '--login') opts.login = value();
    else if (a === '--scope') opts.scope = value();
    else if (a === '--call') opts.call = value();
    else if (a === '--args') opts.args = value();
    else if (a === '--redirect-uri') opts.redirectUri = value();
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!opts.url) usage('--url is required');
  if (!URL.canParse(opts.url)) usage(`--url ${opts.url} is not a URL`);
  if (opts.args !== undefined && opts.call === undefined) usage('--args needs --call');
  if (opts.args !== undefined) {
    try {
      opts.args = JSON.parse(opts.args);
    } catch (e) {
      usage(`--args is not JSON: ${e.message}`);
    }
  }
  if (!(opts.timeoutMs > 0)) usage('--timeout-ms must be positive');
  // Nothing listens there: the "browser" stops at the first redirect to it.
  opts.redirectUri ??= `http://127.0.0.1:${randomInt(20000, 60000)}/oauth/callback`;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const steps = [];
const summary = {
  ok: false,
  url: opts.url,
  registered_client_id: null,
  redirect_uri: opts.redirectUri,
  authorization: null,
  token_header: null,
  token_claims: null,
  token_response: null,
  tools: null,
  call: null,
  steps,
};
const log = (msg) => console.error(`oauth-client: ${msg}`);
const step = (name, detail = {}) => {
  steps.push({ step: name, ...detail });
  log(`${name}${Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : ''}`);
};

function errorText(e) {
  if (!(e instanceof Error)) return String(e);
  let text = `${e.name}: ${e.message}${e.code !== undefined ? ` (code ${e.code})` : ''}`;
  if (e.cause) text += ` [cause: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}]`;
  return text;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function decodeJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`the access token is not a JWS compact serialization (${parts.length} parts)`);
  const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: part(parts[0]), payload: part(parts[1]) };
}

// ---------------------------------------------------------------------------------------------
// HTTP: every request the SDK makes goes through `tracedFetch`, bounded and recorded.
// ---------------------------------------------------------------------------------------------

let asMetadata; // learnt from the discovery response, to name the later steps
function classify(method, url) {
  const u = new URL(url);
  if (u.pathname.startsWith('/.well-known/oauth-protected-resource')) return 'protected-resource-metadata';
  if (u.pathname.startsWith('/.well-known/oauth-authorization-server') || u.pathname.endsWith('/.well-known/openid-configuration')
    || u.pathname.startsWith('/.well-known/openid-configuration')) return 'authorization-server-metadata';
  if (asMetadata?.registration_endpoint === url && method === 'POST') return 'register';
  if (asMetadata?.token_endpoint === url && method === 'POST') return 'token';
  const mcp = new URL(opts.url);
  if (u.origin === mcp.origin && u.pathname === mcp.pathname) return 'mcp';
  return 'other';
}

async function tracedFetch(input, init = {}) {
  const url = input instanceof Request ? input.url : String(input);
  const method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const kind = classify(method, url);
  // Bound every request; keep the caller's own signal too (the SDK aborts SSE GETs on close).
  const signals = [AbortSignal.timeout(opts.timeoutMs)];
  if (init.signal) signals.push(init.signal);
  const res = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
  const entry = { step: kind, method, url, status: res.status };
  if (res.status === 401 || res.status === 403) entry.www_authenticate = res.headers.get('www-authenticate');
  steps.push(entry);
  log(`${method} ${url} → ${res.status}${entry.www_authenticate ? ` (${entry.www_authenticate})` : ''}`);
  if (kind === 'authorization-server-metadata' && res.ok) {
    asMetadata = await res.clone().json().catch(() => undefined);
  }
  if (kind === 'token' && res.ok) {
    const body = await res.clone().json().catch(() => ({}));
    summary.token_response = {
      token_type: body.token_type,
      scope: body.scope,
      expires_in: body.expires_in,
      has_refresh_token: typeof body.refresh_token === 'string',
    };
  } else if (kind === 'token' || kind === 'register') {
    if (!res.ok) log(`${kind} failed: ${await res.clone().text().catch(() => '')}`);
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// The "browser": follows the authorization URL with GETs, keeping cookies, to the redirect_uri.
// ---------------------------------------------------------------------------------------------

class CookieJar {
  #cookies = new Map(); // "origin name" → value; paths are ignored (one test provider)
  store(origin, res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v = ''] = a.split('=').map((s) => s.trim());
        return (k.toLowerCase() === 'max-age' && Number(v) <= 0)
          || (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now());
      });
      if (expired) this.#cookies.delete(`${origin} ${name}`);
      else this.#cookies.set(`${origin} ${name}`, value);
    }
  }
  header(origin) {
    const pairs = [];
    for (const [key, value] of this.#cookies) {
      const [o, name] = key.split(' ');
      if (o === origin) pairs.push(`${name}=${value}`);
    }
    return pairs.join('; ');
  }
}

async function followAuthorization(authorizationUrl, redirectUri, expectedState) {
  const jar = new CookieJar();
  const target = new URL(redirectUri);
  let url = new URL(authorizationUrl);
  const hops = [];
  for (let hop = 0; hop < 15; hop++) {
    if (url.origin === target.origin && url.pathname === target.pathname) {
      const p = url.searchParams;
      step('redirect', { hops, params: Object.fromEntries([...p].map(([k, v]) => [k, k === 'code' ? `${v.slice(0, 6)}…` : v])) });
      if (p.get('error')) throw new Error(`authorization failed: ${p.get('error')}: ${p.get('error_description') ?? ''}`);
      const code = p.get('code');
      if (!code) throw new Error(`redirect to ${redirectUri} without a code: ${url.search}`);
      if (expectedState !== undefined && p.get('state') !== expectedState) {
        throw new Error(`state mismatch: sent ${expectedState}, got ${p.get('state')}`);
      }
      const iss = p.get('iss');
      if (iss !== null && asMetadata?.issuer !== undefined && iss !== asMetadata.issuer) {
        throw new Error(`iss mismatch (RFC 9207): metadata issuer ${asMetadata.issuer}, response iss ${iss}`);
      }
      return code;
    }
    const headers = { accept: 'text/html,application/json' };
    const cookie = jar.header(url.origin);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(url, { redirect: 'manual', headers, signal: AbortSignal.timeout(opts.timeoutMs) });
    jar.store(url.origin, res);
    const location = res.headers.get('location');
    hops.push({ url: `${url.origin}${url.pathname}`, status: res.status });
    log(`authorize hop GET ${url.origin}${url.pathname} → ${res.status}${location ? ` → ${location.slice(0, 120)}` : ''}`);
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    const body = (await res.text()).slice(0, 1000);
    throw new Error(`the authorization flow stopped at ${url.origin}${url.pathname} with HTTP ${res.status} (a UI would be needed?): ${body}`);
  }
  throw new Error('the authorization flow did not reach the redirect_uri within 15 redirects');
}

// ---------------------------------------------------------------------------------------------
// In-memory OAuthClientProvider
// ---------------------------------------------------------------------------------------------

class InMemoryOAuthProvider {
  #clientInformation;
  #tokens;
  #codeVerifier;
  #discovery;
  #state;
  pendingCode;
  authorizations = 0;

  get redirectUrl() {
    return opts.redirectUri;
  }

  get clientMetadata() {
    return {
      client_name: 'mcp-actions interop oauth-client',
      redirect_uris: [opts.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
    };
  }

  state() {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation() {
    return this.#clientInformation;
  }

  saveClientInformation(info) {
    this.#clientInformation = info;
    summary.registered_client_id = info.client_id;
    step('client-information', { client_id: info.client_id, token_endpoint_auth_method: info.token_endpoint_auth_method, scope: info.scope });
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens) {
    this.#tokens = tokens;
  }

  saveCodeVerifier(verifier) {
    this.#codeVerifier = verifier;
  }

  codeVerifier() {
    if (!this.#codeVerifier) throw new Error('no code verifier saved');
    return this.#codeVerifier;
  }

  saveDiscoveryState(state) {
    this.#discovery = state;
  }

  discoveryState() {
    return this.#discovery;
  }

  invalidateCredentials(scope) {
    log(`invalidateCredentials(${scope})`);
    if (scope === 'all' || scope === 'client') this.#clientInformation = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#codeVerifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discovery = undefined;
  }

  async redirectToAuthorization(authorizationUrl) {
    this.authorizations += 1;
    const url = new URL(authorizationUrl);
    // The first authorization may be narrowed/widened by --scope; a step-up keeps the SDK's.
    if (opts.scope !== undefined && this.authorizations === 1) url.searchParams.set('scope', opts.scope);
    if (opts.login !== undefined) url.searchParams.set('login_hint', opts.login);
    const p = url.searchParams;
    const authorization = {
      endpoint: `${url.origin}${url.pathname}`,
      client_id: p.get('client_id'),
      response_type: p.get('response_type'),
      scope: p.get('scope'),
      resource: p.getAll('resource'),
      code_challenge_method: p.get('code_challenge_method'),
      has_code_challenge: p.has('code_challenge'),
      has_state: p.has('state'),
      login_hint: p.get('login_hint'),
    };
    summary.authorization ??= authorization;
    step('authorize', authorization);
    if (authorization.code_challenge_method !== 'S256' || !authorization.has_code_challenge) {
      throw new Error(`the SDK built an authorization URL without PKCE S256: ${url}`);
    }
    this.pendingCode = await followAuthorization(url, opts.redirectUri, this.#state);
  }
}

// ---------------------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------------------

const provider = new InMemoryOAuthProvider();
const newTransport = () => new StreamableHTTPClientTransport(new URL(opts.url), { authProvider: provider, fetch: tracedFetch });
let transport;
let client;

// Completes an authorization the SDK started (redirectToAuthorization ran, UnauthorizedError was
// thrown): exchange the code on the transport that started it, then reconnect.
async function finishAuth(which) {
  const code = provider.pendingCode;
  if (!code) throw new Error('the SDK did not complete redirectToAuthorization (no authorization code)');
  provider.pendingCode = undefined;
  await withTimeout(transport.finishAuth(code), opts.timeoutMs, 'finishAuth');
  const access = (await provider.tokens())?.access_token;
  if (!access) throw new Error('finishAuth stored no access token');
  const { header, payload } = decodeJwt(access);
  summary.token_header = { alg: header.alg, kid: header.kid, typ: header.typ };
  summary.token_claims = payload;
  step('finish-auth', { for: which, token_header: summary.token_header, aud: payload.aud, scope: payload.scope, sub: payload.sub });
}

const closing = new WeakSet();
async function closeClient() {
  if (!client) return;
  closing.add(client);
  await withTimeout(client.close(), opts.timeoutMs, 'close').catch(() => {});
}

async function connect() {
  await closeClient();
  client = new Client({ name: 'mcp-actions-oauth-interop', version: '0.0.0' });
  const mine = client;
  // The SDK reports the standalone SSE GET it aborts on close as an error: not one.
  client.onerror = (e) => {
    if (!closing.has(mine)) log(`transport error: ${errorText(e)}`);
  };
  transport = newTransport();
  await withTimeout(client.connect(transport), opts.timeoutMs * 4, 'connect');
}

// Runs one request; a 403 insufficient_scope makes the SDK re-authorize (UnauthorizedError after
// redirectToAuthorization): finish that once, reconnect and retry.
async function request(name, fn) {
  try {
    return await withTimeout(fn(), opts.timeoutMs * 4, name);
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.pendingCode) throw e;
    step('step-up', { during: name, error: errorText(e) });
    await finishAuth(name);
    await connect();
    return await withTimeout(fn(), opts.timeoutMs * 4, name);
  }
}

async function main() {
  // 1. Unauthenticated connect: 401 → discovery → registration → authorization (our browser).
  let first;
  try {
    await connect();
  } catch (e) {
    first = e;
  }
  if (first === undefined) throw new Error('the server accepted the connection without any token (no 401)');
  if (!(first instanceof UnauthorizedError)) throw first;
  step('unauthorized', { error: errorText(first) });
  if (!steps.some((s) => s.step === 'mcp' && s.status === 401)) throw new Error('no HTTP 401 from the MCP endpoint before the authorization');

  // 2. Code → token on the same transport, then a fresh connection with the token.
  await finishAuth('connect');
  await connect();
  step('connected', { protocolVersion: transport.protocolVersion, serverInfo: client.getServerVersion() });

  // 3. tools/list, optionally tools/call.
  const tools = await request('tools/list', () => client.listTools());
  summary.tools = tools.tools.map((t) => t.name);
  step('list-tools', { tools: summary.tools });
  if (opts.call !== undefined) {
    summary.call = await request('tools/call', () => client.callTool({ name: opts.call, arguments: opts.args ?? {} }));
    step('call-tool', { name: opts.call, isError: summary.call.isError === true });
  }
  summary.ok = true;
}

const deadline = setTimeout(() => {
  summary.error = `the whole flow did not finish within ${opts.timeoutMs * 10} ms`;
  log(summary.error);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(1);
}, opts.timeoutMs * 10);

try {
  await main();
} catch (e) {
  summary.ok = false;
  summary.error = errorText(e);
  log(`FAILED: ${summary.error}`);
} finally {
  await closeClient();
  clearTimeout(deadline);
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = summary.ok ? 0 : 1;
