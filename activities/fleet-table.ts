/**
 * A fleet's per-VM rows are kept in Temporal, not on a worker: the input of this activity stays in
 * the history of the fleet run that recorded it, where client/fleet-table.ts reads the table back
 * from any client. Nothing else is stored, so there is nothing to lose when a worker goes.
 */
import type { FleetOutcome } from '../contracts/fleet/input';

export function createFleetTableActivities() {
  return {
    async fleetRecordOutcomes(input: { rows: FleetOutcome[] }): Promise<{ recorded: number }> {
      return { recorded: input.rows.length };
    },
  };
}

export type FleetTableActivities = ReturnType<typeof createFleetTableActivities>;
