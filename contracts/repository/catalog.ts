/** The repository's workflows in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { WorkflowRoute } from '../catalog-entry';

const input = () => import(/* webpackMode: "eager" */ './input');
const retentionInput = () => import(/* webpackMode: "eager" */ '../retention/input');
const vmOf = (i: Record<string, unknown>) => (typeof i.vmId === 'string' ? i.vmId : undefined);
const proxyOf = (i: Record<string, unknown>) => (typeof i.proxyVmId === 'string' ? i.proxyVmId : undefined);

export const repositoryCatalog = {
  verifyBackups: {
    provider: 'ovirt',
    kind: 'operation',
    summary: "repository check on a proxy's copy worker: re-read stored images and OVFs, compare size and SHA-256 with each manifest, record the verdict (optionally one slice N/T)",
    loadInput: async () => (await input()).verifyBackupsInput,
    subject: vmOf,
    proxyOf,
  },
  ovirtListBackups: {
    provider: 'ovirt',
    kind: 'operation',
    summary: "the oVirt backups in a proxy's repository, newest first, with size, disks and last verification",
    loadInput: async () => (await input()).ovirtListBackupsInput,
    subject: vmOf,
    proxyOf,
  },
  pruneBackups: {
    provider: 'ovirt',
    kind: 'operation',
    summary:
      "retention on a proxy's repository: keep rules (keepLast/Hourly/Daily/Weekly/Monthly/Yearly, as restic forget) per VM, never the newest good or newest verified backup nor one whose run is open; removes the rest (dryRun: only says)",
    loadInput: async () => (await retentionInput()).pruneBackupsInput,
    subject: vmOf,
    proxyOf,
  },
} satisfies Record<string, WorkflowRoute>;
