/** The ManageIQ simulator as `npm start` and the demo run it: tasks take 3 seconds, clients log in with a token. */
import { defineDemo } from '../demo';
import { createManageiqSimulator, MANAGEIQ_DEFAULTS } from './index';

export const manageiqDemo = defineDemo({
  name: 'manageiq',
  defaultPort: 18004,
  secret: ['MANAGEIQ_SIM_PASSWORD', MANAGEIQ_DEFAULTS.password],
  build: ({ clock, secret }) => createManageiqSimulator({ password: secret, taskMs: 3000, clock }),
  profile: ({ simulator }, password) => ({ url: simulator.apiUrl, auth: { type: 'token', username: MANAGEIQ_DEFAULTS.username, password } }),
  description: 'local ManageIQ simulator (npm start)',
});
