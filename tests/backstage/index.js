// A real Backstage backend for tests/backstage.rs: the catalog (whose actions, such as
// get-catalog-entity, it registers) and the MCP actions backend, with an in-memory SQLite
// database. Plain CommonJS, no build step: `node index.js` in this folder reads
// app-config.yaml, whose ${…} values the test sets in the environment (ports, the URL of the
// mcp-actions server that is one of the plugin sources, the static token of the MCP clients).
'use strict';

const { createBackend } = require('@backstage/backend-defaults');

// The plugins' default exports are under `.default` from CommonJS.
const plugin = (name) => {
  const module = require(name);
  return module.default ?? module;
};

const backend = createBackend();
backend.add(plugin('@backstage/plugin-catalog-backend'));
backend.add(plugin('@backstage/plugin-mcp-actions-backend'));
backend.start().catch((error) => {
  console.error('backend failed to start', error);
  process.exit(1);
});

// The test stops the backend with SIGTERM; exit at once rather than drain.
process.on('SIGTERM', () => process.exit(0));
