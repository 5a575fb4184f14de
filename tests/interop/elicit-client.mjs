#!/usr/bin/env node
// The official MCP TypeScript SDK as the user who confirms (or not) the catalog example's delete
// action, which says `confirm = "Delete {entity_ref} from the catalog?"`.
//
// Usage: node elicit-client.mjs --url http://127.0.0.1:PORT/api/mcp-actions/v1 --token TOKEN
//
// The SDK (1.x) speaks 2025-11-25, where the server asks with `elicitation/create` during the
// call, over both of its HTTP transports: Streamable HTTP (the server assigns a sealed
// `Mcp-Session-Id` at `initialize` to a client that declares elicitation; the call's response
// becomes an SSE stream carrying the question; the SDK POSTs its answer) and the HTTP+SSE
// endpoint (`<url>/sse`). The server must also serve the `ask` test plugin (`ask_deploy`).
// Checks, each one entry of `checks` in the JSON summary on stdout:
//   http-decline    Streamable HTTP: the SDK's elicitation handler is asked "Delete … from the
//                   catalog?" with an empty form, declines → isError "NotAllowedError: declined
//                   by the user", and the entity still exists
//   http-cancel     the same, dismissed
//   http-accept     accepted → the entity is deleted (get → NotFoundError)
//   http-elicit     a typed question (`ctx.elicit`): the answer {environment, replicas} reaches
//                   the action, which then asks to confirm
//   sse-decline, sse-cancel, sse-accept   the same as http-* over the HTTP+SSE endpoint
//   no-capability   a client without the elicitation capability (Streamable HTTP) gets no
//                   session id and is refused with a NotAllowedError saying it cannot ask the
//                   user
// Exit code 0 only if every check passed.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

function parseArgs(argv) {
  const opts = { url: undefined, token: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--url') opts.url = argv[++i];
    else if (argv[i] === '--token') opts.token = argv[++i];
    else {
      console.error(`elicit-client: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (!opts.url || !opts.token) {
    console.error('usage: node elicit-client.mjs --url URL --token TOKEN');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const checks = [];
const summary = { client: '@modelcontextprotocol/sdk elicitation', ok: false, checks };
const headers = { Authorization: `Bearer ${opts.token}` };

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function check(name, fn) {
  try {
    const detail = await fn();
    checks.push({ name, ok: true, detail });
    console.error(`PASS ${name}`);
  } catch (e) {
    checks.push({ name, ok: false, detail: String(e?.stack ?? e) });
    console.error(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

/**
 * A client that answers every question with `action` (`answers`: one result per question, in
 * order, instead), recording what it was asked; over `transport` ('http': Streamable HTTP,
 * 'sse': the HTTP+SSE endpoint).
 */
async function userClient(action, transport = 'sse', answers = undefined) {
  const asked = [];
  const client = new Client({ name: 'elicit-interop', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push({ message: request.params.message, schema: request.params.requestedSchema });
    if (answers) return answers[asked.length - 1];
    return action === 'accept' ? { action, content: {} } : { action };
  });
  if (transport === 'http') {
    const http = new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } });
    await client.connect(http);
    assert(typeof http.sessionId === 'string' && http.sessionId.length > 0, 'the server assigned no Mcp-Session-Id');
  } else {
    await client.connect(new SSEClientTransport(new URL(`${opts.url}/sse`), { requestInit: { headers } }));
  }
  return { client, asked };
}

const text = (result) => result.content?.[0]?.text ?? '';
const MESSAGE = (ref) => `Delete ${ref} from the catalog?`;

async function getEntity(client, ref) {
  return client.callTool({ name: 'get_catalog_entity', arguments: { entity_ref: ref } });
}

// Each transport deletes an entity of its own.
const REF = { http: 'component:default/payments-api', sse: 'component:default/website' };

for (const transport of ['http', 'sse']) {
for (const action of ['decline', 'cancel']) {
  await check(`${transport}-${action}`, async () => {
    const ref = REF[transport];
    const { client, asked } = await userClient(action, transport);
    try {
      const result = await client.callTool({ name: 'delete_catalog_entity', arguments: { entity_ref: ref } });
      assert(result.isError === true, `expected isError: ${JSON.stringify(result)}`);
      assert(text(result) === 'NotAllowedError: declined by the user', `got ${text(result)}`);
      assert(asked.length === 1 && asked[0].message === MESSAGE(ref), `asked ${JSON.stringify(asked)}`);
      assert(JSON.stringify(asked[0].schema) === '{"type":"object","properties":{}}', `form ${JSON.stringify(asked[0].schema)}`);
      const still = await getEntity(client, ref);
      assert(!still.isError, `the entity is gone: ${JSON.stringify(still)}`);
      return asked[0].message;
    } finally {
      await client.close();
    }
  });
}

await check(`${transport}-accept`, async () => {
  const ref = REF[transport];
  const { client, asked } = await userClient('accept', transport);
  try {
    const result = await client.callTool({ name: 'delete_catalog_entity', arguments: { entity_ref: ref } });
    assert(!result.isError, `expected success: ${JSON.stringify(result)}`);
    assert(result.structuredContent?.deleted?.ref === ref, JSON.stringify(result.structuredContent));
    assert(asked.length === 1, `asked ${JSON.stringify(asked)}`);
    const gone = await getEntity(client, ref);
    assert(gone.isError && text(gone).startsWith('NotFoundError:'), JSON.stringify(gone));
    return 'deleted';
  } finally {
    await client.close();
  }
});

if (transport === 'http') {
  await check('http-elicit', async () => {
    const answers = [
      { action: 'accept', content: { environment: 'staging', replicas: 3 } },
      { action: 'accept', content: {} },
    ];
    const { client, asked } = await userClient(undefined, 'http', answers);
    try {
      const result = await client.callTool({ name: 'ask_deploy', arguments: { name: 'web' } });
      assert(!result.isError, `expected success: ${JSON.stringify(result)}`);
      const want = { service: 'web', environment: 'staging', reason: null, replicas: 3 };
      const got = result.structuredContent ?? {};
      assert(
        Object.keys(want).length === Object.keys(got).length && Object.entries(want).every(([k, v]) => got[k] === v),
        JSON.stringify(got),
      );
      const messages = asked.map((a) => a.message);
      assert(
        JSON.stringify(messages) === JSON.stringify(['Where should web go?', 'Deploy web to staging with 3 replicas?']),
        `asked ${JSON.stringify(messages)}`,
      );
      return messages;
    } finally {
      await client.close();
    }
  });
}
}

await check('no-capability', async () => {
  const client = new Client({ name: 'elicit-interop-plain', version: '1.0.0' });
  const http = new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } });
  await client.connect(http);
  try {
    assert(http.sessionId === undefined, `a client that cannot be asked got a session id`);
    const result = await client.callTool({ name: 'delete_catalog_entity', arguments: { entity_ref: 'api:default/orders' } });
    assert(result.isError === true, JSON.stringify(result));
    assert(
      text(result).startsWith("NotAllowedError: this action needs the user's confirmation, and this client cannot ask the user"),
      text(result),
    );
    return text(result);
  } finally {
    await client.close();
  }
});

summary.ok = checks.length > 0 && checks.every((c) => c.ok);
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);
