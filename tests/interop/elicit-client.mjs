#!/usr/bin/env node
// The official MCP TypeScript SDK as the user who confirms (or not) the catalog example's delete
// action, which says `confirm = "Delete {entity_ref} from the catalog?"`.
//
// Usage: node elicit-client.mjs --url http://127.0.0.1:PORT/api/mcp-actions/v1 --token TOKEN
//
// The SDK (1.x) speaks 2025-11-25, where the server asks with `elicitation/create` during the
// call: that needs a transport with a way back for the answer, the HTTP+SSE endpoint (`<url>/sse`).
// Checks, each one entry of `checks` in the JSON summary on stdout:
//   sse-decline     the SDK's elicitation handler is asked "Delete … from the catalog?" with an
//                   empty form, declines → isError "NotAllowedError: declined by the user", and
//                   the entity still exists
//   sse-cancel      the same, dismissed
//   sse-accept      accepted → the entity is deleted (get → NotFoundError)
//   no-capability   a client without the elicitation capability (Streamable HTTP) is refused
//                   with a NotAllowedError saying it cannot ask the user
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

/** A client that answers every question with `action`, recording what it was asked. */
async function userClient(action) {
  const asked = [];
  const client = new Client({ name: 'elicit-interop', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push({ message: request.params.message, schema: request.params.requestedSchema });
    return action === 'accept' ? { action, content: {} } : { action };
  });
  await client.connect(new SSEClientTransport(new URL(`${opts.url}/sse`), { requestInit: { headers } }));
  return { client, asked };
}

const text = (result) => result.content?.[0]?.text ?? '';
const MESSAGE = (ref) => `Delete ${ref} from the catalog?`;

async function getEntity(client, ref) {
  return client.callTool({ name: 'get_catalog_entity', arguments: { entity_ref: ref } });
}

for (const action of ['decline', 'cancel']) {
  await check(`sse-${action}`, async () => {
    const ref = 'component:default/website';
    const { client, asked } = await userClient(action);
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

await check('sse-accept', async () => {
  const ref = 'component:default/website';
  const { client, asked } = await userClient('accept');
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

await check('no-capability', async () => {
  const client = new Client({ name: 'elicit-interop-plain', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(opts.url), { requestInit: { headers } }));
  try {
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
