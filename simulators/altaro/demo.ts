/** The Altaro simulator as `npm start` and the examples use it, with the profile that points at it. */
import type { SimulatorDemo } from '../demo';
import { ALTARO_DEFAULTS, createAltaroSimulator } from './index';

export const altaroDemo: SimulatorDemo = {
  name: 'altaro',
  defaultPort: 18002,
  portEnv: 'ALTARO_SIM_PORT',
  secrets: { ALTARO_SIM_PASSWORD: ALTARO_DEFAULTS.password },
  async start({ port, host }) {
    const { simulator } = createAltaroSimulator({ password: this.secrets.ALTARO_SIM_PASSWORD, operationMs: { 'take-backup': 8_000 } });
    await simulator.start(port, host);
    return {
      simulator,
      endpoints: {
        'altaro-sim': {
          vendor: 'altaro',
          url: simulator.url,
          productVersion: '9.1',
          description: 'local Altaro VM Backup simulator (npm start), 9.1 layout (/api/rest)',
          auth: { username: ALTARO_DEFAULTS.username, password: { env: 'ALTARO_SIM_PASSWORD' } },
        },
      },
    };
  },
};
