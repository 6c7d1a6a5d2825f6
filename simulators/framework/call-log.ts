/** Every call a simulator served, and how many were in flight at once (fleet caps are checked on it). */
export interface CallRecord {
  seq: number;
  method: string;
  path: string;
  query: string;
  status: number | 'dropped';
  fault?: string;
  /** The handler's note on what the vendor made of the call (SimResponse.note). */
  note?: string;
  startedAt: number;
  durationMs: number;
}

export class CallLog {
  private records: CallRecord[] = [];
  private seq = 0;
  private inFlight = 0;
  peakConcurrency = 0;

  begin(): { seq: number; startedAt: number } {
    this.inFlight++;
    this.peakConcurrency = Math.max(this.peakConcurrency, this.inFlight);
    return { seq: ++this.seq, startedAt: Date.now() };
  }

  end(record: Omit<CallRecord, 'durationMs'>): void {
    this.inFlight--;
    this.records.push({ ...record, durationMs: Date.now() - record.startedAt });
  }

  all(): CallRecord[] {
    return [...this.records];
  }

  /** Calls whose method and path match, e.g. count('POST', /\/snapshots$/). */
  matching(method: string | undefined, path: RegExp): CallRecord[] {
    return this.records.filter((r) => (!method || r.method === method) && path.test(r.path));
  }

  clear(): void {
    this.records = [];
    this.peakConcurrency = this.inFlight;
  }
}
