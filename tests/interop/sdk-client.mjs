#!/usr/bin/env node
// Interop check of an mcp-actions server with the official MCP TypeScript SDK
// (@modelcontextprotocol/sdk, StreamableHTTPClientTransport).
//
// Usage: node sdk-client.mjs --url http://127.0.0.1:PORT/api/mcp-actions/v1 --token TOKEN [--no-greet]
//        (or MCP_URL / MCP_TOKEN in the environment)
//
// What it checks, each as one entry of `checks` in the JSON summary printed on stdout:
//   connect           the SDK connects (initialize lifecycle) with `Authorization: Bearer TOKEN`
//   capabilities      the server declares `tools`
//   list-tools        tools/list passes the SDK's own result validation (zod) and is not empty
//   schema:<tool>     each tool's inputSchema/outputSchema compiles with a strict JSON Schema
//                     2020-12 validator (Ajv2020, strict mode) AND with the validator the SDK uses
//                     itself to check structuredContent (draft-07 Ajv, as the SDK configures it)
//   greet-ok          greet_user {"name":"World"} → structuredContent.greeting == "Hello World!",
//                     after the SDK validated structuredContent against the tool's outputSchema
//   greet-bad-args    greet_user with bad arguments → isError: true, text starting "InputError:"
//   wrong-token       a wrong token is refused: the SDK gets HTTP 401, and a raw POST gets 401 with a
//                     `WWW-Authenticate: Bearer resource_metadata="…"` challenge
//   no-token          the same without any Authorization header
// Exit code 0 only if every check passed; 1 on any failure; 2 on a usage error.
// Only stdout carries the JSON summary; diagnostics go to stderr.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';

const addFormats = addFormatsModule.default ?? addFormatsModule;
const SDK_VERSION = JSON.parse(
  readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8'),
).version;

function parseArgs(argv) {
  const opts = { url: process.env.MCP_URL, token: process.env.MCP_TOKEN, greet: true, timeoutMs: 20000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--url') opts.url = value();
    else if (a === '--token') opts.token = value();
    else if (a === '--no-greet') opts.greet = false;
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!opts.url) usage('--url (or MCP_URL) is required');
  if (!opts.token) usage('--token (or MCP_TOKEN) is required');
  return opts;
}

function usage(message) {
  if (message) console.error(`sdk-client: ${message}`);
  console.error('usage: node sdk-client.mjs --url URL --token TOKEN [--no-greet] [--timeout-ms N]');
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const checks = [];
const summary = { client: '@modelcontextprotocol/sdk', sdkVersion: SDK_VERSION, url: opts.url, ok: false, checks };

function record(name, ok, detail) {
  checks.push(detail === undefined ? { name, ok } : { name, ok, detail });
  console.error(`${ok ? 'PASS' : 'FAIL'} ${name}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
}

async function check(name, fn) {
  try {
    const detail = await fn();
    record(name, true, detail);
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

function transport(token) {
  const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
  return new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } });
}

// The strict validator: JSON Schema 2020-12 (MCP's default dialect), Ajv strict mode (unknown
// keywords, unknown formats, ignored keywords and ambiguous types are errors), meta-schema
// validation on. Union types ("type": ["string", "null"]) are plain JSON Schema, so allowed.
function strictAjv() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateSchema: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

function checkSchema(label, schema) {
  const problems = [];
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    return [`${label} is not an object`];
  }
  if (schema.type !== 'object') problems.push(`${label} root type is ${JSON.stringify(schema.type)}, not "object"`);
  if ('$schema' in schema && !String(schema.$schema).includes('2020-12')) {
    problems.push(`${label} declares $schema ${schema.$schema}, not 2020-12`);
  }
  try {
    strictAjv().compile(schema);
  } catch (e) {
    problems.push(`${label}: strict Ajv2020: ${e.message}`);
  }
  try {
    // Exactly what the SDK does with an outputSchema (Client.cacheToolMetadata).
    new AjvJsonSchemaValidator().getValidator(schema);
  } catch (e) {
    problems.push(`${label}: SDK's validator: ${e.message}`);
  }
  return problems;
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function expectRefused(name, token) {
  await check(name, async () => {
    // Through the SDK: connecting must fail with HTTP 401.
    const client = new Client({ name: 'mcp-actions-interop', version: '0.0.0' });
    let sdkError;
    try {
      await withTimeout(client.connect(transport(token)), opts.timeoutMs, 'connect');
    } catch (e) {
      sdkError = e;
    } finally {
      await client.close().catch(() => {});
    }
    assert(sdkError !== undefined, 'the SDK connected although the token is wrong');
    assert(sdkError instanceof StreamableHTTPError && sdkError.code === 401, `expected HTTP 401 from the SDK, got ${errorText(sdkError)}`);

    // Raw: the status and the RFC 9728 challenge.
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(opts.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-actions-interop', version: '0.0.0' } },
      }),
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    await res.body?.cancel();
    assert(res.status === 401, `raw POST: expected 401, got ${res.status}`);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert(/^Bearer\b/i.test(challenge) && /resource_metadata="[^"]+"/.test(challenge),
      `raw POST: 401 without a Bearer resource_metadata challenge (WWW-Authenticate: ${JSON.stringify(challenge)})`);
    return { sdk: errorText(sdkError), status: res.status, wwwAuthenticate: challenge };
  });
}

async function main() {
  const client = new Client({ name: 'mcp-actions-interop', version: '0.0.0' });
  client.onerror = (e) => console.error(`sdk-client: transport error: ${errorText(e)}`);
  const connected = await check('connect', async () => {
    await withTimeout(client.connect(transport(opts.token)), opts.timeoutMs, 'connect');
    summary.protocolVersion = client.transport?.protocolVersion;
    summary.serverInfo = client.getServerVersion();
    return { protocolVersion: summary.protocolVersion, serverInfo: summary.serverInfo };
  });

  if (connected) {
    await check('capabilities', async () => {
      const caps = client.getServerCapabilities() ?? {};
      summary.capabilities = caps;
      assert(caps.tools !== undefined, `server does not declare the tools capability: ${JSON.stringify(caps)}`);
      return caps;
    });

    let tools = [];
    await check('list-tools', async () => {
      // listTools() parses the result with the SDK's ListToolsResultSchema and caches every
      // tool's outputSchema validator for callTool.
      const result = await withTimeout(client.listTools(), opts.timeoutMs, 'tools/list');
      tools = result.tools;
      summary.tools = tools.map((t) => t.name);
      assert(tools.length > 0, 'tools/list returned no tools');
      return summary.tools;
    });

    for (const tool of tools) {
      await check(`schema:${tool.name}`, async () => {
        const problems = checkSchema('inputSchema', tool.inputSchema);
        if (tool.outputSchema !== undefined) problems.push(...checkSchema('outputSchema', tool.outputSchema));
        assert(problems.length === 0, problems.join('; '));
        return { outputSchema: tool.outputSchema !== undefined };
      });
    }

    if (opts.greet) {
      const greet = tools.find((t) => t.name === 'greet_user');
      await check('greet-ok', async () => {
        assert(greet !== undefined, 'no greet_user tool in tools/list');
        assert(greet.outputSchema !== undefined, 'greet_user has no outputSchema');
        // callTool validates structuredContent against the cached outputSchema and throws
        // McpError(InvalidParams, "Structured content does not match the tool's output schema…").
        const result = await withTimeout(client.callTool({ name: 'greet_user', arguments: { name: 'World' } }), opts.timeoutMs, 'tools/call');
        assert(result.isError !== true, `isError: ${JSON.stringify(result.content)}`);
        assert(result.structuredContent?.greeting === 'Hello World!', `structuredContent: ${JSON.stringify(result.structuredContent)}`);
        return { structuredContent: result.structuredContent };
      });

      await check('greet-bad-args', async () => {
        const result = await withTimeout(client.callTool({ name: 'greet_user', arguments: { name: 42 } }), opts.timeoutMs, 'tools/call');
        assert(result.isError === true, `expected isError: true, got ${JSON.stringify(result)}`);
        const text = (result.content ?? []).find((c) => c.type === 'text')?.text ?? '';
        assert(text.startsWith('InputError:'), `expected text starting "InputError:", got ${JSON.stringify(text)}`);
        return { text };
      });
    }
  }
  await client.close().catch(() => {});

  await expectRefused('wrong-token', `${opts.token}-wrong`);
  await expectRefused('no-token', undefined);

  summary.ok = checks.length > 0 && checks.every((c) => c.ok);
  summary.passed = checks.filter((c) => c.ok).length;
  summary.failed = checks.filter((c) => !c.ok).length;
}

try {
  await main();
} catch (e) {
  record('unexpected', false, errorText(e));
  summary.ok = false;
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exitCode = summary.ok ? 0 : 1;
