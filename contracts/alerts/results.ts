/** What rpoWatch reports: each VM it looked at and whether an alert went out for it. */
export interface RpoCheck {
  provider: string;
  vmId: string;
  expectedIntervalMinutes: number;
  graceMinutes: number;
  /** The newest good backup's close time (ISO), when there is one. */
  lastSuccessAt?: string;
  /** When the next good backup is due at the latest (ISO): the last one plus interval and grace. */
  dueAt?: string;
  missed: boolean;
  alert?: { sent: boolean; eventId: string; reason?: string };
}

export interface RpoWatchResult {
  checked: RpoCheck[];
  missed: number;
}
