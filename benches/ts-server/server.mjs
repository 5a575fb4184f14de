// greet_user on the official MCP TypeScript SDK, the way its README serves a stateless
// Streamable HTTP server: a new McpServer and transport per request (sessionIdGenerator:
// undefined), JSON responses (enableJsonResponse: true), behind a bearer-token check.
//
// Usage: node server.mjs PORT   (binds 127.0.0.1 only; 0 picks a free port; token in MCP_TOKEN)
import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const port = Number(process.argv[2] ?? 0);
const token = process.env.MCP_TOKEN;
if (!token) throw new Error('MCP_TOKEN is not set');
const PATH = '/api/mcp-actions/v1';
const CHALLENGE =
  'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/api/mcp-actions/v1"';
const MAX_BODY = 4 * 1024 * 1024;

function buildServer() {
  const server = new McpServer({ name: 'ts-sdk-greet', version: '0.0.0' });
  server.registerTool(
    'greet_user',
    {
      title: 'Greet User',
      description: 'Generate a personalized greeting.',
      inputSchema: { name: z.string().describe('The name of the person to greet') },
      outputSchema: { greeting: z.string().describe('The generated greeting') },
      annotations: {
        title: 'Greet User',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async ({ name }) => {
      if (!name.trim()) {
        return { isError: true, content: [{ type: 'text', text: 'InputError: name must not be empty' }] };
      }
      const output = { greeting: `Hello ${name}!` };
      return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
    },
  );
  return server;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== PATH) {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'WWW-Authenticate': CHALLENGE }).end('unauthorized');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    let body;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8'));
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' })
        .end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
      return;
    }
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

httpServer.listen(port, '127.0.0.1', () => {
  const address = httpServer.address();
  console.log(`listening on ${address.address}:${address.port}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
