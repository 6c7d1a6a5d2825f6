/**
 * Everything an Azure end-to-end test needs: the generic harness and the Azure Backup simulator over
 * HTTPS (a fresh self-signed certificate the profile trusts), with short timings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AZURE_DEMO, azureSimProfile, createAzureSimulator, type AzureSimulatorOptions } from '../../simulators/azure';
import type { AzureState } from '../../simulators/azure';
import type { Simulator } from '../../simulators/framework/simulator';
import { startHarness } from './harness';

export const AZURE_TEST_SECRET = 'test-client-secret-Az-0123456789';

export const FAST_SIM: Partial<AzureSimulatorOptions> = {
  asyncMs: 300,
  retryAfterSeconds: 0,
  backupTaskMs: [600, 900],
  restoreTaskMs: 900,
  cancelMs: 400,
};

export function azureProfile(simulator: Simulator, state: AzureState, certFile: string | undefined, fileRecoveryDir: string): Record<string, unknown> {
  return azureSimProfile({ simulator, state, certFile }, { clientSecret: { env: 'TEST_AZURE_CLIENT_SECRET' }, fileRecoveryDir });
}

export async function startAzureSim(sim: Partial<AzureSimulatorOptions> = {}) {
  const tmp = await mkdtemp(join(tmpdir(), 'azure-harness-'));
  const { simulator, state, certFile } = createAzureSimulator({ tlsDir: join(tmp, 'tls'), clientSecret: AZURE_TEST_SECRET, ...FAST_SIM, ...sim });
  await simulator.start(0);
  const fileRecoveryDir = join(tmp, 'file-recovery');
  return { tmp, simulator, state, certFile, fileRecoveryDir, profile: azureProfile(simulator, state, certFile, fileRecoveryDir) };
}

export async function startAzureHarness(sim: Partial<AzureSimulatorOptions> = {}) {
  const s = await startAzureSim(sim);
  const harness = await startHarness({
    endpoints: { 'azure-sim': s.profile },
    secrets: { TEST_AZURE_CLIENT_SECRET: AZURE_TEST_SECRET },
    // Bearer tokens and every file-recovery password the simulator handed out.
    issuedSecrets: () => [...s.state.tokens.keys(), ...[...s.state.protectedItems.values()].flatMap((item) => item.recoveryPoints.flatMap((rp) => (rp.ilr ? [rp.ilr.password] : [])))],
    onStop: async () => {
      await s.simulator.stop();
      await rm(s.tmp, { recursive: true, force: true });
    },
  });
  return {
    ...harness,
    ...s,
    demo: AZURE_DEMO,
    endpoint: 'azure-sim',
    storageAccountId: `/subscriptions/${AZURE_DEMO.subscriptionId}/resourceGroups/${AZURE_DEMO.restoreResourceGroup}/providers/Microsoft.Storage/storageAccounts/${AZURE_DEMO.storageAccount}`,
    resourceGroupId: (rg: string) => `/subscriptions/${AZURE_DEMO.subscriptionId}/resourceGroups/${rg}`,
  };
}

export type AzureHarness = Awaited<ReturnType<typeof startAzureHarness>>;
