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

export class RunFailedError extends BackupClientError {
  override readonly exitCode = 1;
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RunFailedError';
  }
}

export class RunCancelledError extends BackupClientError {
  override readonly exitCode = 130;
  constructor(workflowId: string) {
    super(`run ${workflowId} was cancelled`);
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
