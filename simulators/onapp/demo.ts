/** The OnApp simulator as `npm start` and the demo run it: backups take 8 seconds to build, JSON resources. */
import { defineDemo } from '../demo';
import { createOnappSimulator, ONAPP_DEFAULTS } from './index';

export const onappDemo = defineDemo({
  name: 'onapp',
  defaultPort: 18005,
  secret: ['ONAPP_SIM_PASSWORD', ONAPP_DEFAULTS.password],
  build: ({ clock, secret }) => createOnappSimulator({ password: secret, buildMs: 8000, clock }),
  profile: ({ simulator }, password) => ({ url: simulator.apiUrl, format: 'json', auth: { username: ONAPP_DEFAULTS.username, password } }),
  description: 'local OnApp simulator (npm start)',
});
