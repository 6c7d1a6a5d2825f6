/** The OnApp simulator as `npm start` and the demo run it, with the profile that points at it. */
import type { SimulatorDemo } from '../demo';
import { createOnappSimulator, ONAPP_DEFAULTS } from './index';

export const onappDemo: SimulatorDemo = {
  name: 'onapp',
  defaultPort: 18005,
  portEnv: 'ONAPP_SIM_PORT',
  secrets: { ONAPP_SIM_PASSWORD: ONAPP_DEFAULTS.password },
  async start({ port, host }) {
    const { simulator } = createOnappSimulator({ username: ONAPP_DEFAULTS.username, password: this.secrets.ONAPP_SIM_PASSWORD, buildMs: 8000 });
    await simulator.start(port, host);
    return {
      simulator,
      endpoints: {
        'onapp-sim': {
          vendor: 'onapp',
          url: simulator.apiUrl,
          format: 'json',
          description: 'local OnApp simulator (npm start)',
          auth: { username: ONAPP_DEFAULTS.username, password: { env: 'ONAPP_SIM_PASSWORD' } },
        },
      },
    };
  },
};
