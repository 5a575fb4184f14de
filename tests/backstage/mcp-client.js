#!/usr/bin/env node
// The official MCP TypeScript SDK client (@modelcontextprotocol/sdk) against an MCP endpoint:
// Backstage's own (`/api/mcp-actions/v1`), in tests/backstage.rs.
//
// Usage: node mcp-client.js <endpoint URL> <token> <calls JSON>
//   <calls JSON>: [{"name": "<tool>", "arguments": {…}}, …]
// Prints one JSON document on stdout: {"tools": [<tools/list's tools>], "calls": [<each
// tools/call result, or {"rpcError": {code, message}}>]}. Exit code 0 when every request was
// answered (tool errors and JSON-RPC errors included), 1 otherwise.
'use strict';

const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { McpError } = require('@modelcontextprotocol/sdk/types.js');

async function main() {
  const [url, token, callsJson] = process.argv.slice(2);
  if (!url || !token || !callsJson) {
    console.error('usage: node mcp-client.js <endpoint URL> <token> <calls JSON>');
    process.exit(2);
  }
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'mcp-actions-backstage-test', version: '0.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const calls = [];
  for (const call of JSON.parse(callsJson)) {
    try {
      calls.push(await client.callTool({ name: call.name, arguments: call.arguments ?? {} }));
    } catch (error) {
      if (error instanceof McpError) {
        calls.push({ rpcError: { code: error.code, message: error.message } });
      } else {
        throw error;
      }
    }
  }
  await client.close();
  process.stdout.write(`${JSON.stringify({ tools, calls })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
