/** The oVirt simulator as `npm start` and the demo run it, with the proxy VM's device folders for the copy worker. */
import { join } from 'node:path';
import { defineDemo } from '../demo';
import { createOvirtSimulator, OVIRT_DEFAULTS } from './index';
import { imageioCertDir } from './imageio';

const deviceRoot = (dataDir: string) => join(dataDir, 'ovirt-devices');

export const ovirtDemo = defineDemo({
  name: 'ovirt',
  defaultPort: 18001,
  secret: ['OVIRT_SIM_PASSWORD', OVIRT_DEFAULTS.password],
  // A few small VMs beside web-01, so examples/fleetBackup.json has a fleet to back up.
  build: ({ dataDir, clock, secret }) => createOvirtSimulator({ dataDir: join(dataDir, 'ovirt-disks'), deviceRoot: deviceRoot(dataDir), password: secret, extraVms: 4, clock }),
  profile: ({ simulator }, password) => ({ url: simulator.apiUrl, apiVersion: 'v4', auth: { type: 'sso', username: OVIRT_DEFAULTS.username, password } }),
  description: 'local oVirt simulator (npm start)',
  // The demo proxy's /dev: by-id names and the guest device names logical_name gives.
  // The imageio server's certificate: the copy worker's CA for transfer URLs (IMAGEIO_CA_FILE).
  extra: ({ dataDir }) => ({
    ovirtDeviceByIdDir: join(deviceRoot(dataDir), 'by-id'),
    ovirtDeviceDir: deviceRoot(dataDir),
    ovirtImageioCaFile: join(imageioCertDir(join(dataDir, 'ovirt-disks')), 'cert.pem'),
  }),
});
