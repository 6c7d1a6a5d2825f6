/**
 * A fleet's outcomes: counts and the newest failures, which the fleet carries from run to run and
 * returns, and every VM's row, which it records (fleetRecordOutcomes, in chunks of at most
 * RECORD_CHUNK_CHARS) in the history of the run that handled the VM. The histories of the chain's
 * runs are the full table (client/fleet-table.ts reads it back); no payload grows with the fleet.
 */
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { FleetTableActivities } from '../activities/fleet-table';
import { FLEET_RECENT_FAILURES, type FleetCarry, type FleetOutcome } from '../contracts/fleet/input';

/** Well under Temporal's 256 KB payload warning, however long the reasons. */
const RECORD_CHUNK_CHARS = 64 * 1024;
/** A vendor's message can be long; a row keeps enough of it to act on. */
const MAX_REASON_CHARS = 1000;

// Recording never gives up (it only writes history) and survives the fleet's cancellation: a row
// lost there would be a VM missing from the table.
const table = proxyActivities<FleetTableActivities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumInterval: '30 seconds' } });

export type FleetTally = FleetCarry['counts'] & { notStarted: number };

export class FleetOutcomes {
  readonly tally: FleetTally;
  readonly recentFailures: FleetOutcome[];
  /** Rows not yet handed to the recorder. */
  private buffer: FleetOutcome[] = [];
  private bufferChars = 0;
  private recording: Promise<unknown> = Promise.resolve();

  /**
   * `record` false: a run started before rows were recorded (replay), which keeps them all and
   * carries them as `carriedOutcomes`, as it did then; the next run records them.
   */
  constructor(
    readonly record: boolean,
    carried?: FleetCarry,
  ) {
    this.tally = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0, ...carried?.counts, notStarted: 0 };
    this.recentFailures = [...(carried?.recentFailures ?? [])];
  }

  add(row: FleetOutcome): void {
    const kept: FleetOutcome = row.reason !== undefined && row.reason.length > MAX_REASON_CHARS ? { ...row, reason: `${row.reason.slice(0, MAX_REASON_CHARS)}…` } : row;
    if (kept.outcome === 'not-started') this.tally.notStarted++;
    else this.tally[kept.outcome]++;
    if (kept.outcome === 'failed') {
      this.recentFailures.push(kept);
      if (this.recentFailures.length > FLEET_RECENT_FAILURES) this.recentFailures.shift();
    }
    this.buffer.push(kept);
    if (!this.record) return;
    this.bufferChars += JSON.stringify(kept).length;
    if (this.bufferChars >= RECORD_CHUNK_CHARS) this.flush();
  }

  /** Rows of this run not yet in its history, for the table's reader while the fleet runs. */
  get unrecorded(): FleetOutcome[] {
    return [...this.buffer];
  }

  /** Records what is buffered and waits until every record is in the history. */
  async settle(): Promise<void> {
    if (this.record && this.buffer.length) this.flush();
    await this.recording;
  }

  private flush(): void {
    const rows = this.buffer.splice(0);
    this.bufferChars = 0;
    this.recording = this.recording.then(() => CancellationScope.nonCancellable(() => table.fleetRecordOutcomes({ rows })));
  }
}
