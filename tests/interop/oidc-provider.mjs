#!/usr/bin/env node
// A real OpenID provider (oidc-provider from npm) for the OAuth 2.1 resource-server tests: it
// issues JWT access tokens for the MCP endpoint (RFC 8707 resource indicators), signed with keys
// the test can rotate, from a JWKS endpoint the test can break on purpose.
//
// Usage: node oidc-provider.mjs --resource URL [--resource URL ...] [--scopes "mcp catalog.read catalog.write"]
//                               [--alg RS256|PS256|ES256] [--ttl SECONDS (access-token lifetime, 600)]
//                               [--registration-scope] [--ignore-stdin]
//
// Listens on 127.0.0.1, ephemeral port. When ready, prints ONE JSON line on stdout:
//   {"issuer":"http://127.0.0.1:PORT","jwks_uri":"…/jwks","token_endpoint":"…/token",
//    "authorization_endpoint":"…/auth","registration_endpoint":"…/reg",
//    "discovery":"…/.well-known/openid-configuration","control":"http://127.0.0.1:PORT/test",
//    "resources":[…],"scopes":[…],"kid":"<signing kid>"}
// then runs until stdin closes (EOF: the parent died or closed the pipe), SIGTERM or SIGINT, and
// exits 0 promptly. `--ignore-stdin` is for running it by hand in the background (`&` gives it
// /dev/null as stdin, which is at EOF at once). Progress and oidc-provider's warnings go to stderr.
//
// What the provider does:
//   * issuer http://127.0.0.1:PORT (no path); discovery at /.well-known/openid-configuration.
//   * resource indicators: `resource=<one of --resource>` gets a JWT access token (typ at+jwt,
//     --alg, kid) with aud = that resource exactly as given on the command line, iss, sub, exp,
//     iat, jti, scope (only the granted scopes, space-separated; absent when none), client_id; for
//     a user also preferred_username. Any other resource → invalid_target. A request without
//     `resource` gets the FIRST --resource (defaultResource), so every access token is a JWT for
//     the MCP endpoint unless the client names another configured one.
//   * client credentials: `svc-all` / `svc-all-secret` (every scope), `svc-read` /
//     `svc-read-secret` (only "mcp catalog.read"; asking for another known scope →
//     invalid_scope). Both client_secret_basic and client_secret_post work (see rewriteClientPost).
//     sub = client_id for these tokens.
//   * dynamic client registration, open (no initial access token), public clients
//     (token_endpoint_auth_method "none") allowed; the `scope` of a registration request is
//     dropped (see dropRegistrationScope) unless --registration-scope; authorization code + PKCE
//     (S256, required for public clients); redirect URIs are matched exactly, http loopback
//     (127.0.0.1 / localhost) allowed.
//   * login and consent without a UI: GET /interaction/:uid logs in the user named by the
//     authorization request's login_hint (default "jane"; sub = the username) and then grants every
//     requested scope and resource, answering with redirects only, so following the authorization
//     URL with plain GETs (keeping cookies) ends at redirect_uri?code=…&state=…&iss=….
//   * control endpoints (loopback test only), each answering
//     {"kid":"<current signing kid>","kids":[published kids],"mode":"<jwks mode>","fetches":N}:
//       POST /test/rotate   new signing key (new kid); the JWKS publishes new + all old ones
//       POST /test/retire   the JWKS publishes only the current signing key
//       POST /test/jwks     {"mode":"normal"|"down"|"slow"|"garbage"|"huge", "delay_ms"?, "bytes"?}
//                           normal: the real JWKS; down: 503; slow: the real JWKS after delay_ms
//                           (default 10000); garbage: 200 application/json with a non-JSON body;
//                           huge: 200 application/json, a valid JWKS (the real keys) padded to
//                           `bytes` (default 5 MiB), streamed in 64 KiB chunks every 5 ms
//       GET  /test/fetches  {"fetches":N, ...}: how many requests reached the JWKS endpoint
//                           (any mode) since start or the last POST /test/fetches/reset
//       GET  /test/state    the same object as the others
//     Rotation re-creates the Provider with the new key set (one node http server delegates to
//     the current Provider); static clients are config, and the in-memory store (registered
//     clients, sessions, grants, refresh tokens) is shared by all Provider instances, so all of
//     them survive. Tokens issued before a rotation stay valid (they are self-contained JWTs);
//     they fail at a resource server only once their kid is retired.

import http from 'node:http';
import crypto from 'node:crypto';
import { once } from 'node:events';
import Provider, { errors } from 'oidc-provider';
// oidc-provider's own in-memory adapter, but with ONE store for every Provider instance, so that
// registered clients, sessions and grants survive a key rotation (oidc-provider's default gives
// each instance its own store). Internal modules: package.json pins the exact version.
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

function usage(message) {
  if (message) console.error(`oidc-provider: ${message}`);
  console.error('usage: node oidc-provider.mjs --resource URL [--resource URL ...] [--scopes "mcp catalog.read catalog.write"] [--alg RS256|PS256|ES256] [--ttl SECONDS] [--registration-scope] [--ignore-stdin]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    resources: [], scopes: ['mcp', 'catalog.read', 'catalog.write'], alg: 'RS256', ttl: 600, ignoreStdin: false, registrationScope: false,
  };
  let scopesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--resource') opts.resources.push(value());
    else if (a === '--scopes') { opts.scopes = value().split(/\s+/).filter(Boolean); scopesGiven = true; }
    else if (a === '--alg') opts.alg = value();
    else if (a === '--ttl') opts.ttl = Number(value());
    else if (a === '--ignore-stdin') opts.ignoreStdin = true;
    else if (a === '--registration-scope') opts.registrationScope = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (opts.resources.length === 0) usage('at least one --resource is required');
  for (const r of opts.resources) {
    const u = URL.parse(r);
    if (!u || u.hash) usage(`--resource ${r} is not an absolute URL without a fragment`);
  }
  if (scopesGiven && opts.scopes.length === 0) usage('--scopes is empty');
  if (!['RS256', 'PS256', 'ES256'].includes(opts.alg)) usage(`--alg ${opts.alg} is not RS256, PS256 or ES256`);
  if (!(opts.ttl > 0)) usage('--ttl must be a positive number of seconds');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const log = (msg) => console.error(`oidc-provider: ${msg}`);

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

let keyCounter = 0;
function newSigningKey() {
  const { privateKey } = opts.alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  keyCounter += 1;
  const kid = `k${keyCounter}-${crypto.randomBytes(6).toString('hex')}`;
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: opts.alg, use: 'sig' };
}

// The first key signs (oidc-provider selects the first key that fits the alg); all are published.
let keys = [newSigningKey()];
const publicJwk = ({ d, p, q, dp, dq, qi, ...pub }) => pub;
const publishedKids = () => keys.map((k) => k.kid);

// ---------------------------------------------------------------------------------------------
// Provider configuration
// ---------------------------------------------------------------------------------------------

const USERS = new Set(); // usernames that logged in (any login_hint is accepted)
const STATIC_CLIENTS = [
  {
    client_id: 'svc-all',
    client_secret: 'svc-all-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'svc-read',
    client_secret: 'svc-read-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'mcp catalog.read',
  },
];
const CLIENT_SECRETS = new Map(STATIC_CLIENTS.map((c) => [c.client_id, c.client_secret]));

// --resource values, matched as written or as parsed (URL.href), audience = as written.
const resourceByHref = new Map(opts.resources.map((r) => [new URL(r).href, r]));
const findResource = (indicator) => {
  const parsed = URL.parse(indicator);
  return opts.resources.includes(indicator) ? indicator : parsed ? resourceByHref.get(parsed.href) : undefined;
};

const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
const store = new LRU({ maxSize: 10000 });

function configuration() {
  return {
    adapter: (model) => new MemoryAdapter(model, store),
    clients: STATIC_CLIENTS,
    jwks: { keys },
    cookies: { keys: cookieKeys },
    // Also the default alg of JWT access tokens; with --alg ES256 there is no RSA key at all.
    clientDefaults: { id_token_signed_response_alg: opts.alg },
    // The resource scopes are also "static" scopes: dynamic registration validates a client's
    // `scope` against these, and the client-credentials grant checks svc-read's `scope`
    // allow-list only against these.
    scopes: ['openid', 'offline_access', ...opts.scopes],
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    findAccount: async (_ctx, accountId) => ({
      accountId,
      claims: async () => ({ sub: accountId, preferred_username: accountId }),
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      registration: { enabled: true, initialAccessToken: false },
      resourceIndicators: {
        enabled: true,
        // No `resource` in the request → the first --resource (a JWT for the MCP endpoint).
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? opts.resources[0],
        // Token request without `resource` after an authorization request with one → that one.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          const audience = findResource(indicator);
          if (!audience) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          const allowed = client?.scope ? client.scope.split(' ') : opts.scopes;
          return {
            audience,
            scope: opts.scopes.filter((s) => allowed.includes(s)).join(' '),
            accessTokenTTL: opts.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: opts.alg } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) =>
      token.kind === 'AccessToken' && token.accountId ? { preferred_username: token.accountId } : undefined,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    ttl: {
      AccessToken: opts.ttl,
      ClientCredentials: opts.ttl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

let issuer;
let provider;
let handler;
function buildProvider() {
  provider = new Provider(issuer, configuration());
  provider.on('server_error', (_ctx, e) => log(`server_error: ${e.stack ?? e}`));
  provider.on('grant.error', (_ctx, e) => log(`grant.error: ${e.name}: ${e.message}${e.error_description ? ` (${e.error_description})` : ''}`));
  provider.on('registration_create.success', (_ctx, client) => log(`registered client ${client.clientId} ${JSON.stringify(client.redirectUris)}`));
  handler = provider.callback();
}

// ---------------------------------------------------------------------------------------------
// Interactions: login (login_hint or "jane") and consent (everything requested), no UI
// ---------------------------------------------------------------------------------------------

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    const accountId = typeof params.login_hint === 'string' && params.login_hint ? params.login_hint : 'jane';
    USERS.add(accountId);
    log(`interaction ${details.uid}: login ${accountId}`);
    return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    log(`interaction ${details.uid}: consent for ${session.accountId}: ${JSON.stringify(d)}`);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  throw new Error(`unexpected prompt ${prompt.name}`);
}

// ---------------------------------------------------------------------------------------------
// client_secret_post for the static clients: oidc-provider insists on the registered method
// (client_secret_basic), so a token/introspection/revocation request that carries a static
// client's client_id + client_secret in the form is rewritten into Basic authentication.
// oidc-provider then reads the already-read body from req.body (it warns once about that).
// ---------------------------------------------------------------------------------------------

const FORM_ROUTES = new Set(['/token', '/token/introspection', '/token/revocation']);
async function rewriteClientPost(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 56 * 1024) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const id = params.get('client_id');
  const secret = params.get('client_secret');
  if (id && secret !== null && CLIENT_SECRETS.has(id) && !req.headers.authorization) {
    params.delete('client_id');
    params.delete('client_secret');
    const enc = (s) => encodeURIComponent(s);
    req.headers.authorization = `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
  }
  req.body = params.toString();
  req.headers['content-length'] = String(Buffer.byteLength(req.body));
}

// A dynamically registered client's `scope` becomes, in oidc-provider, an allow-list of the
// scopes it may ever request: the MCP SDK registers with the scope of the first challenge, so a
// later step-up (403 insufficient_scope → authorize again with more scopes) would be refused with
// invalid_scope. Unless --registration-scope is given, `scope` is removed from registration
// requests (the client may then request any known scope, as with most providers).
async function dropRegistrationScope(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 56 * 1024) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  let text = Buffer.concat(chunks).toString('utf8');
  try {
    const metadata = JSON.parse(text);
    if (metadata && typeof metadata === 'object' && 'scope' in metadata) {
      log(`registration: ignoring scope ${JSON.stringify(metadata.scope)} (no allow-list; --registration-scope keeps it)`);
      delete metadata.scope;
      text = JSON.stringify(metadata);
    }
  } catch {
    // Not JSON: oidc-provider answers the error itself.
  }
  req.body = text;
  req.headers['content-length'] = String(Buffer.byteLength(text));
}

// ---------------------------------------------------------------------------------------------
// Control endpoints and the JWKS modes
// ---------------------------------------------------------------------------------------------

let jwksMode = { mode: 'normal' };
let fetches = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function state() {
  return { kid: keys[0].kid, kids: publishedKids(), mode: jwksMode.mode, fetches };
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text ? JSON.parse(text) : {};
}

async function control(req, res, path) {
  if (req.method === 'POST' && path === '/test/rotate') {
    keys = [newSigningKey(), ...keys];
    buildProvider();
    log(`rotated: signing with ${keys[0].kid}, publishing ${publishedKids().join(' ')}`);
    return sendJson(res, 200, state());
  }
  if (req.method === 'POST' && path === '/test/retire') {
    keys = [keys[0]];
    buildProvider();
    log(`retired: publishing ${publishedKids().join(' ')}`);
    return sendJson(res, 200, state());
  }
  if (req.method === 'POST' && path === '/test/jwks') {
    let body;
    try {
      body = await readJson(req);
    } catch (e) {
      return sendJson(res, 400, { error: `body is not JSON: ${e.message}` });
    }
    const modes = ['normal', 'down', 'slow', 'garbage', 'huge'];
    if (!modes.includes(body.mode)) return sendJson(res, 400, { error: `mode must be one of ${modes.join(', ')}` });
    jwksMode = {
      mode: body.mode,
      delayMs: Number.isFinite(body.delay_ms) ? body.delay_ms : 10000,
      bytes: Number.isFinite(body.bytes) ? body.bytes : 5 * 1024 * 1024,
    };
    log(`jwks mode ${JSON.stringify(jwksMode)}`);
    return sendJson(res, 200, state());
  }
  if (req.method === 'POST' && path === '/test/fetches/reset') {
    fetches = 0;
    return sendJson(res, 200, state());
  }
  if (req.method === 'GET' && (path === '/test/fetches' || path === '/test/state')) {
    return sendJson(res, 200, state());
  }
  return sendJson(res, 404, { error: `no control route ${req.method} ${path}` });
}

// Returns true when it answered the JWKS request itself; false → the provider answers (normal).
async function jwks(req, res) {
  fetches += 1;
  const { mode, delayMs, bytes } = jwksMode;
  log(`jwks fetch #${fetches} (${mode})`);
  const document = () => JSON.stringify({ keys: keys.map(publicJwk) });
  switch (mode) {
    case 'down':
      sendJson(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '1' });
      return true;
    case 'slow':
      await sleep(delayMs);
      if (res.destroyed) return true;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json; charset=utf-8' });
      res.end(document());
      return true;
    case 'garbage':
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end('<html><body>502 Bad Gateway, this is not JSON</body></html>');
      return true;
    case 'huge': {
      const head = `${document().slice(0, -1)},"x_padding":"`;
      const tail = '"}';
      const padding = Math.max(0, bytes - head.length - tail.length);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(head.length + padding + tail.length) });
      res.write(head);
      const CHUNK = 64 * 1024;
      const block = 'x'.repeat(CHUNK);
      const closed = once(res, 'close');
      for (let left = padding; left > 0 && !res.destroyed; left -= CHUNK) {
        if (!res.write(left >= CHUNK ? block : block.slice(0, left))) {
          await Promise.race([once(res, 'drain'), closed]);
        }
        await sleep(5);
      }
      if (!res.destroyed) res.end(tail);
      return true;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    if (path === '/test' || path.startsWith('/test/')) return await control(req, res, path);
    if (path === '/jwks' && (await jwks(req, res))) return;
    if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(path)) return await interaction(req, res);
    if (req.method === 'POST' && FORM_ROUTES.has(path)
      && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      await rewriteClientPost(req);
    }
    if (req.method === 'POST' && path === '/reg' && !opts.registrationScope
      && (req.headers['content-type'] ?? '').startsWith('application/json')) {
      await dropRegistrationScope(req);
    }
    return handler(req, res);
  } catch (e) {
    log(`${req.method} ${path}: ${e.stack ?? e}`);
    if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(e.message ?? e) });
    else res.destroy();
  }
});
server.keepAliveTimeout = 5000;

let exiting = false;
function shutdown(why) {
  if (exiting) return;
  exiting = true;
  log(`exiting (${why})`);
  server.close();
  server.closeAllConnections();
  // Pending slow/huge JWKS answers hold timers; nothing here needs a graceful drain.
  setImmediate(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
if (!opts.ignoreStdin) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

server.listen(0, '127.0.0.1');
await Promise.race([
  once(server, 'listening'),
  new Promise((_, reject) => setTimeout(() => reject(new Error('listen timed out after 10 s')), 10000).unref()),
]);
const { port } = server.address();
issuer = `http://127.0.0.1:${port}`;
buildProvider();

// Self-check: discovery answers before we announce readiness.
const discovery = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10000) })
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`discovery answered ${r.status}`))));

process.stdout.write(`${JSON.stringify({
  issuer,
  jwks_uri: discovery.jwks_uri,
  token_endpoint: discovery.token_endpoint,
  authorization_endpoint: discovery.authorization_endpoint,
  registration_endpoint: discovery.registration_endpoint,
  discovery: `${issuer}/.well-known/openid-configuration`,
  control: `${issuer}/test`,
  resources: opts.resources,
  scopes: opts.scopes,
  kid: keys[0].kid,
})}\n`);
log(`ready at ${issuer} (resources ${opts.resources.join(' ')}; scopes ${opts.scopes.join(' ')}; alg ${opts.alg})`);
