/** The Azure Backup simulator as `npm start` runs it (HTTPS, self-signed), with the `azure-sim` profile. */
import { join } from 'node:path';
import type { SimulatorDemo } from '../demo';
import { AZURE_DEMO, createAzureSimulator, simulatorTokenUrl } from './index';

export const azureDemo: SimulatorDemo = {
  name: 'azure',
  defaultPort: 18003,
  portEnv: 'AZURE_SIM_PORT',
  secrets: { AZURE_SIM_CLIENT_SECRET: 'azure-sim-client-secret' },
  async start({ dataDir, port, host }) {
    const { simulator, state, certFile } = createAzureSimulator({
      tlsDir: join(dataDir, 'azure-tls'),
      clientSecret: this.secrets.AZURE_SIM_CLIENT_SECRET,
      asyncMs: 1000,
      retryAfterSeconds: 1,
      backupTaskMs: [4000, 8000],
      restoreTaskMs: 8000,
    });
    await simulator.start(port, host);
    return {
      simulator,
      endpoints: {
        'azure-sim': {
          vendor: 'azure',
          url: simulator.url,
          apiVersion: '2023-06-01',
          description: 'local Azure Backup simulator (npm start, HTTPS with a self-signed certificate)',
          tls: { caFile: certFile },
          subscriptionId: AZURE_DEMO.subscriptionId,
          resourceGroup: AZURE_DEMO.resourceGroup,
          vaultName: AZURE_DEMO.vaultName,
          auth: { tenantId: AZURE_DEMO.tenantId, clientId: AZURE_DEMO.clientId, clientSecret: { env: 'AZURE_SIM_CLIENT_SECRET' }, tokenUrl: simulatorTokenUrl(simulator, state) },
          fileRecoveryDir: join(dataDir, 'azure-file-recovery'),
        },
      },
    };
  },
};
