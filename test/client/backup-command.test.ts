/** backupctl backup <provider>: the friendly flags become inputs the workflows' own schemas accept. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { backupInput, providerCommands } from '../../client/cli/backup-command';
import { catalogEntry } from '../../contracts/catalog';

const cases: Record<string, Record<string, string | boolean>> = {
  ovirt: { vm: '6f2a0d3e-5b1c-4c8e-9a10-00000000a001', 'proxy-vm': '6f2a0d3e-5b1c-4c8e-9a10-00000000b001', 'keep-snapshot': true },
  altaro: { vm: 'a1b2c3d4-0001-4000-8000-000000000001' },
  azure: { vm: 'web-01', protect: true },
  onapp: { vm: '101', 'backup-type': 'normal', disk: '7' },
  manageiq: { vm: '10000000000042', keep: '3' },
};

for (const [provider, flags] of Object.entries(cases)) {
  test(`backup ${provider}: flags map onto a valid ${providerCommands[provider]!.workflowType} input, endpoint from the local profiles`, () => {
    const { workflowType, input } = backupInput(provider, { endpoint: `${provider}-sim`, ...flags });
    const parsed = catalogEntry(workflowType)!.input.safeParse(input);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    // Without --endpoint the only profile of that vendor in config/endpoints.simulators.json is used.
    assert.equal(backupInput(provider, flags).input.endpoint, `${provider}-sim`);
  });
}

test('numbers stay numbers, and a wrong one is left for the schema to name', () => {
  assert.equal(backupInput('onapp', { vm: '101' }).input.virtualServerId, 101);
  const bad = backupInput('onapp', { endpoint: 'onapp-sim', vm: 'web-01' });
  const parsed = catalogEntry('onappBackup')!.input.safeParse(bad.input);
  assert.ok(!parsed.success && parsed.error.issues.some((i) => i.path[0] === 'virtualServerId'));
  assert.throws(() => backupInput('vmware', {}), /unknown provider "vmware"/);
});
