/** The RPO watch in the catalog (contracts/catalog-entry.ts says what each field is for). */
import type { WorkflowRoute } from '../catalog-entry';

export const alertsCatalog = {
  rpoWatch: {
    provider: 'any',
    kind: 'operation',
    summary: "alerts once per miss when a VM's newest good backup is older than its schedule's interval plus a grace (its RPO)",
    loadInput: async () => (await import(/* webpackMode: "eager" */ './input')).rpoWatchInput,
    subject: () => undefined,
  },
} satisfies Record<string, WorkflowRoute>;
