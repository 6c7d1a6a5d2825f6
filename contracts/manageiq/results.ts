/** What the ManageIQ workflows return. */
import type { DeleteReport, ManageiqSnapshot, ManageiqTask } from '../../activities/manageiq/activities';
import type { StepTiming } from '../progress';

export type TaskOutcome = ManageiqTask & { polls: number };

export interface ManageiqSnapshotResult {
  provider: 'manageiq';
  workflowId: string;
  runId: string;
  endpoint: string;
  resource: { collection: 'vms' | 'instances'; id: string; name: string };
  snapshot: ManageiqSnapshot;
  /** The create task's outcome; absent when an earlier attempt's snapshot was adopted. */
  task?: TaskOutcome;
  /** Ids of extra snapshots with the run's name (a create retried after a lost reply) that were deleted. */
  duplicatesRemoved: string[];
  retention: {
    prefix: string;
    keep: number;
    kept: Array<{ id: string; name: string; createTime: string | null }>;
    /** One entry per resource of the bulk delete: the appliance's result and the task's final status. */
    deleted: DeleteReport[];
    /** Snapshots of the resource this tool did not make: never touched. */
    othersUntouched: number;
  };
  timings: StepTiming[];
  startedAt: string;
  completedAt: string;
}

export interface ManageiqRevertResult {
  provider: 'manageiq';
  endpoint: string;
  resource: { collection: 'vms'; id: string; name: string };
  snapshot: ManageiqSnapshot;
  task?: TaskOutcome;
  message: string;
}

export interface ManageiqDeleteSnapshotsResult {
  provider: 'manageiq';
  endpoint: string;
  resource: { collection: 'vms' | 'instances'; id: string; name: string };
  /** One entry per requested snapshot, in the order given. */
  results: DeleteReport[];
  succeeded: number;
  failed: number;
}
