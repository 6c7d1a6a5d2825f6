/** Client-side errors, one class per exit code the CLI uses. */
export class BackupClientError extends Error {
  readonly exitCode: number = 1;
}

export class InvalidInputError extends BackupClientError {
  override readonly exitCode = 2;
  constructor(
    readonly problems: string[],
    workflowType: string,
  ) {
    super(`invalid input for ${workflowType}: ${problems.join('; ')}`);
    this.name = 'InvalidInputError';
  }
}

export class NotFoundError extends BackupClientError {
  override readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** What a failed or cancelled run undid, and what it left behind (undos an operator gave up on). */
export interface UndoAccount {
  /** The step the run failed or was cancelled in. */
  step: string;
  undone: string[];
  leftBehind: Array<{ label: string; error: string }>;
}

/** The account as lines under the error: every undo taken, every object still on the vendor. */
export function describeUndoAccount(account: UndoAccount | undefined): string {
  if (!account) return '';
  const undone = account.undone.length ? account.undone.map((u) => `\n  undone: ${u}`).join('') : '\n  undone: nothing (nothing had been made)';
  const left = account.leftBehind.length ? account.leftBehind.map((l) => `\n  LEFT BEHIND: ${l.label} (${l.error})`).join('') : '\n  left behind: nothing';
  return `${undone}${left}`;
}

export class RunFailedError extends BackupClientError {
  override readonly exitCode = 1;
  constructor(
    message: string,
    readonly details?: unknown,
    readonly undo?: UndoAccount,
  ) {
    super(`${message}${describeUndoAccount(undo)}`);
    this.name = 'RunFailedError';
  }
}

export class RunCancelledError extends BackupClientError {
  override readonly exitCode = 130;
  constructor(
    workflowId: string,
    readonly undo?: UndoAccount,
  ) {
    super(`run ${workflowId} was cancelled${undo?.step ? ` during "${undo.step}"` : ''}${describeUndoAccount(undo)}`);
    this.name = 'RunCancelledError';
  }
}

/** The Temporal server did not answer: the message names the address and what set it. */
export class ServerUnreachableError extends BackupClientError {
  override readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'ServerUnreachableError';
  }
}

/** The Temporal connection settings are wrong (a certificate without its key, a file that is not there): nothing was sent. */
export class ConnectionSettingsRefusedError extends BackupClientError {
  override readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionSettingsRefusedError';
  }
}

/** The run refused an operator's update: it cannot take it now, or the argument is wrong (nothing was recorded). */
export class ActionRefusedError extends BackupClientError {
  override readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'ActionRefusedError';
  }
}

/** A cancel or an action for a run that had already ended: too late, nothing was done. */
export class RunAlreadyEndedError extends BackupClientError {
  override readonly exitCode = 5;
  constructor(
    readonly workflowId: string,
    readonly status: string,
    what: string,
  ) {
    super(`run ${workflowId} had already ended (${status}): ${what}`);
    this.name = 'RunAlreadyEndedError';
  }
}
