/**
 * What a running workflow accepts from a person besides cancel: the updates (answered, and refused
 * when the run cannot take them now), the signals kept beside them for older clients, and the
 * queries. Workflows register handlers under these names; `backupctl update|signal|query` lists them.
 */

export interface OperatorAction {
  name: string;
  kind: 'update' | 'query';
  /** Also accepted as a signal of the same name (no answer, no refusal). */
  signal?: boolean;
  summary: string;
  /** The argument it takes, as JSON, when it takes one. */
  argument?: string;
  /** A backupctl command that sends it, when there is a friendlier one than `backupctl update`. */
  command?: string;
}

export const cleanupAction = 'cleanup';

/** What the cleanup update answers: the decision taken, the undos it applies to, and what happens next. */
export interface CleanupAnswer {
  action: 'retry' | 'give-up';
  leftovers: string[];
  next: string;
}
export const fileRecoveryDoneAction = 'done';

/** Every run that opens through openRun: progress, leftovers and the cleanup decision. */
const everyRun: OperatorAction[] = [
  {
    name: cleanupAction,
    kind: 'update',
    signal: true,
    summary: 'answer a run that needs attention: run the failed undos again, or give up and end the run reporting what is left',
    argument: '{"action":"retry"|"give-up","note":"…"}',
    command: 'backupctl cleanup <id> --retry|--give-up [--note TEXT]',
  },
  { name: 'progress', kind: 'query', summary: 'step, percent, disks, bytes, state, and after compensation what was undone' },
  { name: 'leftovers', kind: 'query', summary: 'undos that keep failing while the run waits for an operator, and the decisions taken' },
];

const byType: Record<string, OperatorAction[]> = {
  azureFileRecovery: [
    {
      name: fileRecoveryDoneAction,
      kind: 'update',
      signal: true,
      summary: 'end the open file recovery session now: the connection is revoked and the stored script and password deleted',
      command: 'backupctl done <id>',
    },
    { name: 'fileRecovery', kind: 'query', summary: 'where the recovery script and its password are on the worker, while the session is open' },
  ],
  fleetBackup: [
    { name: 'fleetCounts', kind: 'query', summary: 'how many VMs succeeded, failed, were skipped or are running' },
    { name: 'fleetUnrecordedOutcomes', kind: 'query', summary: 'per-VM outcomes not yet written to the fleet table' },
  ],
};

/** What a run of this type accepts (unknown types: none known). */
export function operatorActions(workflowType: string): OperatorAction[] {
  const own = Object.hasOwn(byType, workflowType) ? byType[workflowType]! : [];
  return [...own, ...everyRun];
}
