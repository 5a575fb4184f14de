// The `greet_user` action of examples/greet-user as a Backstage plugin (id `greet-user`), for
// the `backstage` section of benches/bench.py: the same input ({ name }), output
// ({ greeting: "Hello <name>!" }), attributes (read-only, idempotent) and InputError for a blank
// name. Plain CommonJS on the packages tests/backstage already installs (no new dependency).
'use strict';

const { createBackendPlugin } = require('@backstage/backend-plugin-api');
const { actionsRegistryServiceRef } = require('@backstage/backend-plugin-api/alpha');
const { InputError } = require('@backstage/errors');

module.exports = createBackendPlugin({
  pluginId: 'greet-user',
  register(env) {
    env.registerInit({
      deps: { actionsRegistry: actionsRegistryServiceRef },
      async init({ actionsRegistry }) {
        actionsRegistry.register({
          name: 'greet_user',
          title: 'Greet User',
          description: 'Generate a personalized greeting.',
          attributes: { readOnly: true, idempotent: true },
          schema: {
            input: (z) => z.object({ name: z.string().describe('The name of the person to greet') }),
            output: (z) => z.object({ greeting: z.string().describe('The generated greeting') }),
          },
          async action({ input }) {
            if (input.name.trim() === '') {
              throw new InputError('name must not be empty');
            }
            return { output: { greeting: `Hello ${input.name}!` } };
          },
        });
      },
    });
  },
});
