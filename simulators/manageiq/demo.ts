/** The ManageIQ simulator as `npm start` and the demo run it, with the profile that points at it. */
import type { SimulatorDemo } from '../demo';
import { createManageiqSimulator, MANAGEIQ_DEFAULTS } from './index';

export const manageiqDemo: SimulatorDemo = {
  name: 'manageiq',
  defaultPort: 18004,
  portEnv: 'MANAGEIQ_SIM_PORT',
  secrets: { MANAGEIQ_SIM_PASSWORD: MANAGEIQ_DEFAULTS.password },
  async start({ port, host }) {
    const { simulator } = createManageiqSimulator({ username: MANAGEIQ_DEFAULTS.username, password: this.secrets.MANAGEIQ_SIM_PASSWORD, taskMs: 3000 });
    await simulator.start(port, host);
    return {
      simulator,
      endpoints: {
        'manageiq-sim': {
          vendor: 'manageiq',
          url: simulator.apiUrl,
          description: 'local ManageIQ simulator (npm start)',
          auth: { type: 'token', username: MANAGEIQ_DEFAULTS.username, password: { env: 'MANAGEIQ_SIM_PASSWORD' } },
        },
      },
    };
  },
};
