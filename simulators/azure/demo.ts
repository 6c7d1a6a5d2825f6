/** The Azure Backup simulator as `npm start` runs it: HTTPS with a self-signed certificate, jobs of a few seconds. */
import { join } from 'node:path';
import { defineDemo } from '../demo';
import { AZURE_SIM_DEFAULTS, azureSimProfile, createAzureSimulator } from './index';

export const azureDemo = defineDemo({
  name: 'azure',
  defaultPort: 18003,
  secret: ['AZURE_SIM_CLIENT_SECRET', AZURE_SIM_DEFAULTS.clientSecret],
  build: ({ dataDir, clock, secret }) =>
    createAzureSimulator({ tlsDir: join(dataDir, 'azure-tls'), clientSecret: secret, asyncMs: 1000, retryAfterSeconds: 1, backupTaskMs: [4000, 8000], restoreTaskMs: 8000, clock }),
  profile: (built, clientSecret, { dataDir }) => azureSimProfile(built, { clientSecret, fileRecoveryDir: join(dataDir, 'azure-file-recovery') }),
  description: 'local Azure Backup simulator (npm start, HTTPS with a self-signed certificate)',
});
