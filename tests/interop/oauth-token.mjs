#!/usr/bin/env node
// An access token from the client-credentials grant (RFC 6749 §4.4) with a resource indicator
// (RFC 8707), for manual use against an OAuth-protected mcp-actions server.
//
// Usage: node oauth-token.mjs --issuer URL --client ID --secret SECRET [--scope "mcp catalog.read"]
//                             [--resource URL] [--auth basic|post] [--json] [--timeout-ms N]
//
// Finds the token endpoint through the issuer's /.well-known/openid-configuration (falling back
// to /.well-known/oauth-authorization-server), posts
// grant_type=client_credentials&scope=…&resource=… with client_secret_basic (default) or
// client_secret_post, and prints the access token on stdout as one line (with --json: the whole
// token response as one JSON line instead). Exit 1 with the provider's error (status and body) on
// stderr on any failure; 2 on a usage error.

function usage(message) {
  if (message) console.error(`oauth-token: ${message}`);
  console.error('usage: node oauth-token.mjs --issuer URL --client ID --secret SECRET [--scope "mcp"] [--resource URL] [--auth basic|post] [--json] [--timeout-ms N]');
  process.exit(2);
}

const opts = { auth: 'basic', json: false, timeoutMs: 10000 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  if (a === '--issuer') opts.issuer = value();
  else if (a === '--client') opts.client = value();
  else if (a === '--secret') opts.secret = value();
  else if (a === '--scope') opts.scope = value();
  else if (a === '--resource') opts.resource = value();
  else if (a === '--auth') opts.auth = value();
  else if (a === '--json') opts.json = true;
  else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${a}`);
}
if (!opts.issuer) usage('--issuer is required');
if (!opts.client) usage('--client is required');
if (opts.secret === undefined) usage('--secret is required');
if (!['basic', 'post'].includes(opts.auth)) usage('--auth must be basic or post');

const fail = (message) => {
  console.error(`oauth-token: ${message}`);
  process.exit(1);
};
const signal = () => AbortSignal.timeout(opts.timeoutMs);

async function tokenEndpoint() {
  const base = opts.issuer.replace(/\/+$/, '');
  const tried = [];
  for (const suffix of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    const url = `${base}${suffix}`;
    const res = await fetch(url, { signal: signal(), headers: { accept: 'application/json' } });
    if (res.ok) {
      const metadata = await res.json();
      if (!metadata.token_endpoint) fail(`${url} has no token_endpoint`);
      return metadata.token_endpoint;
    }
    await res.body?.cancel();
    tried.push(`${url}: HTTP ${res.status}`);
  }
  return fail(`no authorization server metadata (${tried.join('; ')})`);
}

try {
  const endpoint = await tokenEndpoint();
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (opts.scope !== undefined) body.set('scope', opts.scope);
  if (opts.resource !== undefined) body.set('resource', opts.resource);
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (opts.auth === 'basic') {
    // RFC 6749 §2.3.1: form-urlencode both before base64.
    const enc = (s) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(opts.client)}:${enc(opts.secret)}`).toString('base64')}`;
  } else {
    body.set('client_id', opts.client);
    body.set('client_secret', opts.secret);
  }
  const res = await fetch(endpoint, { method: 'POST', headers, body, signal: signal() });
  const text = await res.text();
  if (!res.ok) fail(`token endpoint ${endpoint} answered HTTP ${res.status}: ${text}`);
  let token;
  try {
    token = JSON.parse(text);
  } catch {
    fail(`token endpoint ${endpoint} answered a non-JSON body: ${text.slice(0, 500)}`);
  }
  if (typeof token.access_token !== 'string') fail(`no access_token in ${text}`);
  process.stdout.write(`${opts.json ? JSON.stringify(token) : token.access_token}\n`);
} catch (e) {
  fail(e instanceof Error ? `${e.name}: ${e.message}${e.cause ? ` (${e.cause.message ?? e.cause})` : ''}` : String(e));
}
