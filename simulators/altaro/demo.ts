/** The Altaro simulator as `npm start` and the examples use it: the 9.1 layout, 8-second backups. */
import { defineDemo } from '../demo';
import { ALTARO_DEFAULTS, createAltaroSimulator } from './index';

export const altaroDemo = defineDemo({
  name: 'altaro',
  defaultPort: 18002,
  secret: ['ALTARO_SIM_PASSWORD', ALTARO_DEFAULTS.password],
  build: ({ clock, secret }) => createAltaroSimulator({ password: secret, operationMs: { 'take-backup': 8_000 }, clock }),
  profile: ({ simulator }, password) => ({ url: simulator.url, productVersion: '9.1', auth: { username: ALTARO_DEFAULTS.username, password } }),
  description: 'local Altaro VM Backup simulator (npm start), 9.1 layout (/api/rest)',
});
