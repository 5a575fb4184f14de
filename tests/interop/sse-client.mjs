#!/usr/bin/env node
// Interop check of an mcp-actions server's deprecated HTTP+SSE endpoint (MCP 2024-11-05) with
// the official MCP TypeScript SDK's SSEClientTransport.
//
// Usage: node sse-client.mjs --url http://127.0.0.1:PORT/api/mcp-actions/v1/sse --token TOKEN
//        [--protocol-version 2024-11-05] [--timeout-ms N]
//
// --protocol-version makes the client offer that version in `initialize` instead of the SDK's
// latest, as a client that only speaks 2024-11-05 does (the SDK accepts 2024-11-05 answers).
//
// Checks, each one entry of `checks` in the JSON summary printed on stdout:
//   connect       GET …/sse with `Authorization: Bearer TOKEN`, the `endpoint` event, initialize
//                 over POSTs to it; the negotiated version is the one offered
//   capabilities  the server declares `tools`
//   list-tools    tools/list passes the SDK's validation and includes greet_user
//   greet-ok      greet_user {"name":"World"} → structuredContent.greeting == "Hello World!"
//                 (validated by the SDK against the tool's outputSchema)
//   greet-bad-args  greet_user {"name":" "} → isError with "InputError: …"
//   whoami        (if the server has it) transports_whoami → the token's subject, WHOAMI
//   wrong-token   connecting with a wrong token fails with HTTP 401
// Exit code 0 only if every check passed; 1 on any failure; 2 on a usage error.
// Only stdout carries the JSON summary; diagnostics go to stderr.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { readFileSync } from 'node:fs';

const SDK_VERSION = JSON.parse(
  readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8'),
).version;

function usage(message) {
  if (message) console.error(`sse-client: ${message}`);
  console.error('usage: node sse-client.mjs --url URL --token TOKEN [--protocol-version V] [--whoami PRINCIPAL] [--timeout-ms N]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { url: undefined, token: undefined, protocolVersion: undefined, whoami: undefined, timeoutMs: 20000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--url') opts.url = value();
    else if (a === '--token') opts.token = value();
    else if (a === '--protocol-version') opts.protocolVersion = value();
    else if (a === '--whoami') opts.whoami = value();
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!opts.url) usage('--url is required');
  if (!opts.token) usage('--token is required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const checks = [];
const summary = { client: '@modelcontextprotocol/sdk SSEClientTransport', sdkVersion: SDK_VERSION, url: opts.url, ok: false, checks };

function record(name, ok, detail) {
  checks.push(detail === undefined ? { name, ok } : { name, ok, detail });
  console.error(`${ok ? 'PASS' : 'FAIL'} ${name}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
}

async function check(name, fn) {
  try {
    record(name, true, await fn());
    return true;
  } catch (e) {
    record(name, false, errorText(e));
    return false;
  }
}

function errorText(e) {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.code !== undefined ? ` (code ${e.code})` : ''}`;
  return String(e);
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function transport(token) {
  const t = new SSEClientTransport(new URL(opts.url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  if (opts.protocolVersion) {
    // Offer only this version, like an old client.
    const send = t.send.bind(t);
    t.send = (message, options) => {
      if (message.method === 'initialize') {
        message = { ...message, params: { ...message.params, protocolVersion: opts.protocolVersion } };
      }
      return send(message, options);
    };
  }
  return t;
}

async function main() {
  const client = new Client({ name: 'mcp-actions-sse-interop', version: '0.0.0' });
  client.onerror = (e) => console.error(`sse-client: transport error: ${errorText(e)}`);
  const connected = await check('connect', async () => {
    await withTimeout(client.connect(transport(opts.token)), opts.timeoutMs, 'connect');
    summary.protocolVersion = client.transport?._protocolVersion;
    summary.serverInfo = client.getServerVersion();
    if (opts.protocolVersion) {
      assert(summary.protocolVersion === opts.protocolVersion,
        `negotiated ${summary.protocolVersion}, not the offered ${opts.protocolVersion}`);
    }
    return { protocolVersion: summary.protocolVersion, serverInfo: summary.serverInfo };
  });

  if (connected) {
    await check('capabilities', async () => {
      const caps = client.getServerCapabilities() ?? {};
      assert(caps.tools !== undefined, `no tools capability: ${JSON.stringify(caps)}`);
      return caps;
    });
    let names = [];
    await check('list-tools', async () => {
      const result = await withTimeout(client.listTools(), opts.timeoutMs, 'tools/list');
      names = result.tools.map((t) => t.name);
      summary.tools = names;
      assert(names.includes('greet_user'), `greet_user is missing from ${JSON.stringify(names)}`);
      return names;
    });
    await check('greet-ok', async () => {
      const result = await withTimeout(
        client.callTool({ name: 'greet_user', arguments: { name: 'World' } }), opts.timeoutMs, 'tools/call');
      assert(!result.isError, `isError: ${JSON.stringify(result)}`);
      assert(result.structuredContent?.greeting === 'Hello World!', `structuredContent: ${JSON.stringify(result.structuredContent)}`);
      return result.structuredContent;
    });
    await check('greet-bad-args', async () => {
      const result = await withTimeout(
        client.callTool({ name: 'greet_user', arguments: { name: ' ' } }), opts.timeoutMs, 'tools/call');
      const text = result.content?.[0]?.text ?? '';
      assert(result.isError === true && text.startsWith('InputError:'), `expected an InputError: ${JSON.stringify(result)}`);
      return text;
    });
    if (opts.whoami) {
      await check('whoami', async () => {
        const result = await withTimeout(
          client.callTool({ name: 'transports_whoami', arguments: {} }), opts.timeoutMs, 'tools/call');
        const principal = result.structuredContent?.principal;
        assert(principal === opts.whoami, `the handler saw ${JSON.stringify(principal)}, not ${opts.whoami}`);
        return principal;
      });
    }
  }
  await client.close().catch(() => {});

  await check('wrong-token', async () => {
    const refused = new Client({ name: 'mcp-actions-sse-interop', version: '0.0.0' });
    let error;
    try {
      await withTimeout(refused.connect(transport('not-the-token')), opts.timeoutMs, 'connect');
    } catch (e) {
      error = e;
    } finally {
      await refused.close().catch(() => {});
    }
    assert(error !== undefined, 'connected with a wrong token');
    assert(error instanceof SseError && error.code === 401, `expected HTTP 401, got ${errorText(error)}`);
    return errorText(error);
  });

  summary.ok = checks.every((c) => c.ok);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(summary.ok ? 0 : 1);
}

main().catch((e) => {
  console.error(`sse-client: ${e.stack ?? e}`);
  summary.error = errorText(e);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(1);
});
