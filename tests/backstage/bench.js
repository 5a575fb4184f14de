// The Backstage side of the `backstage` section of benches/bench.py: Backstage's MCP actions
// backend serving one action, `greet_user` of plugins/greet-user.js (in this process, a plugin
// source like any other), on an in-memory SQLite database. Plain CommonJS, no build:
// `node bench.js --config app-config.bench.yaml` in this folder, with BACKSTAGE_PORT and
// BACKSTAGE_TOKEN in the environment. index.js and app-config.yaml (tests/backstage.rs) are
// not involved; both use this folder's node_modules.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');

const mcpActions = require('@backstage/plugin-mcp-actions-backend');

const backend = createBackend();
backend.add(mcpActions.default ?? mcpActions);
backend.add(require('./plugins/greet-user'));
backend.start().catch((error) => {
  console.error('backend failed to start', error);
  process.exit(1);
});

// The bench stops the backend with SIGTERM; exit at once rather than drain.
process.on('SIGTERM', () => process.exit(0));
