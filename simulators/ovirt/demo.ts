/** The oVirt simulator as `npm start` and the demo run it, with the profile that points at it. */
import { join } from 'node:path';
import type { SimulatorDemo } from '../demo';
import { createOvirtSimulator } from './index';

export const ovirtDemo: SimulatorDemo = {
  name: 'ovirt',
  defaultPort: 18001,
  portEnv: 'OVIRT_SIM_PORT',
  secrets: { OVIRT_SIM_PASSWORD: 'ovirt-sim-password' },
  async start({ dataDir, port, host }) {
    const deviceRoot = join(dataDir, 'ovirt-devices');
    // A few small VMs beside web-01, so examples/fleetBackup.json has a fleet to back up.
    const { simulator } = await createOvirtSimulator({ dataDir: join(dataDir, 'ovirt-disks'), deviceRoot, password: this.secrets.OVIRT_SIM_PASSWORD, extraVms: 4 });
    await simulator.start(port, host);
    return {
      simulator,
      endpoints: {
        'ovirt-sim': {
          vendor: 'ovirt',
          url: simulator.apiUrl,
          apiVersion: 'v4',
          description: 'local oVirt simulator (npm start)',
          auth: { type: 'sso', username: 'admin@internal', password: { env: 'OVIRT_SIM_PASSWORD' } },
        },
      },
      // The demo proxy's /dev: by-id names and the guest device names logical_name gives.
      extra: { ovirtDeviceByIdDir: join(deviceRoot, 'by-id'), ovirtDeviceDir: deviceRoot },
    };
  },
};
