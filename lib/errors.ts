/**
 * The one error taxonomy: every vendor client throws VendorError, and activities turn it into a
 * Temporal ApplicationFailure whose `nonRetryable` and `nextRetryDelay` carry the retry decision.
 */
import { ApplicationFailure } from '@temporalio/common';

export type VendorName = 'ovirt' | 'altaro' | 'azure' | 'onapp' | 'manageiq';

export interface VendorErrorInit {
  vendor: VendorName | string;
  /** What we were doing, e.g. "POST /vms/123/snapshots". */
  operation: string;
  /** HTTP status, when the vendor answered. */
  status?: number;
  /** The vendor's own words (fault reason/detail, ErrorMessage, error.message …). */
  vendorMessage: string;
  /** Whether repeating the same call can help. */
  retryable: boolean;
  /** Vendor-supplied wait before a retry (Retry-After). */
  retryAfterMs?: number;
  /** Vendor error code, when it has one. */
  code?: string;
  cause?: unknown;
}

/** Error types that name a class of failure; `type` on the ApplicationFailure. */
export const ErrorTypes = {
  vendorTransient: 'VendorTransientError',
  vendorRejected: 'VendorRejectedError',
  vendorNotFound: 'VendorNotFoundError',
  malformedResponse: 'VendorMalformedResponse',
  invalidInput: 'InvalidInput',
  /** An operator's update the run cannot take now (nothing waits for it, or its argument is wrong): refused, nothing recorded. */
  actionRefused: 'OperatorActionRefused',
  unknownEndpoint: 'UnknownEndpointProfile',
  stuck: 'VendorOperationStuck',
  /** The proxy VM does not show an attached disk's device (yet). */
  deviceNotFound: 'DeviceNotFound',
  /** A workflow step failed; compensation ran (the message names the step and what was undone). */
  stepFailed: 'BackupStepFailed',
  altaroOperationFailed: 'AltaroOperationFailed',
  azureJobFailed: 'AzureJobFailed',
  manageiqTaskFailed: 'ManageiqTaskFailed',
  revertNotSupported: 'RevertNotSupported',
  listBackupsFailed: 'ListBackupsFailed',
  snapshotHasNoDisks: 'SnapshotHasNoDisks',
  /** A restored or re-read image's SHA-256 differs from the manifest's. */
  hashMismatch: 'BackupHashMismatch',
  /** A drill or a repository check found a backup that does not restore as recorded. */
  verificationFailed: 'BackupVerificationFailed',
  /** The backup repository cannot be used: missing, wrong password, locked by a live process, its software missing. */
  repositoryUnavailable: 'BackupRepositoryUnavailable',
} as const;

export class VendorError extends Error {
  readonly vendor: string;
  readonly operation: string;
  readonly status?: number;
  readonly vendorMessage: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly code?: string;

  constructor(init: VendorErrorInit) {
    const statusText = init.status !== undefined ? ` → HTTP ${init.status}` : '';
    super(`${displayVendor(init.vendor)} ${init.operation}${statusText}: ${init.vendorMessage}`, {
      cause: init.cause,
    });
    this.name = 'VendorError';
    this.vendor = init.vendor;
    this.operation = init.operation;
    this.status = init.status;
    this.vendorMessage = init.vendorMessage;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.code = init.code;
  }

  get type(): string {
    if (this.retryable) return ErrorTypes.vendorTransient;
    if (this.status === 404) return ErrorTypes.vendorNotFound;
    return ErrorTypes.vendorRejected;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** Raised when a vendor body does not match its schema: retrying the same call rarely helps. */
export class MalformedResponseError extends VendorError {
  constructor(vendor: string, operation: string, issues: string, status?: number) {
    super({ vendor, operation, status, vendorMessage: `unexpected response body: ${issues}`, retryable: false });
    this.name = 'MalformedResponseError';
  }

  override get type(): string {
    return ErrorTypes.malformedResponse;
  }
}

/** A request refused before any call was made: the input asks for what the vendor cannot do. */
export class UnsupportedRequestError extends VendorError {
  constructor(vendor: string, operation: string, message: string) {
    super({ vendor, operation, vendorMessage: message, retryable: false });
    this.name = 'UnsupportedRequestError';
  }

  override get type(): string {
    return ErrorTypes.invalidInput;
  }
}

export function displayVendor(vendor: string): string {
  const names: Record<string, string> = {
    ovirt: 'oVirt',
    altaro: 'Altaro',
    azure: 'Azure',
    onapp: 'OnApp',
    manageiq: 'ManageIQ',
  };
  return names[vendor] ?? vendor;
}

/**
 * The answer to a request timed out: the vendor may still handle it after the client gave up (a
 * create may yet happen). A request never sent, or answered with a status, is not such a case.
 */
export function mayStillBeHandled(err: unknown): boolean {
  return err instanceof VendorError && err.status === undefined && (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT');
}

/** Whether an HTTP status means "try again later" rather than "your request is wrong". */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 423 || status === 425 || status === 429 || status >= 500;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Converts anything an activity caught into the failure Temporal should see. Non-vendor errors
 * (bugs, local I/O) stay retryable: Temporal's retry policy bounds them.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof VendorError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !err.retryable,
      nextRetryDelay: err.retryable && err.retryAfterMs !== undefined ? err.retryAfterMs : undefined,
      details: [{ vendor: err.vendor, operation: err.operation, status: err.status, vendorMessage: err.vendorMessage, code: err.code }],
    });
  }
  return err;
}

/** Wraps every function of an activity object so that thrown errors pass through toActivityFailure. */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return wrapped as T;
}

export function nonRetryable(message: string, type: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/** A wait that ran out: the vendor's operation did not get where it had to in time. */
export function stuckFailure(message: string, options: { retryable?: boolean; details?: unknown } = {}): ApplicationFailure {
  return ApplicationFailure.create({ message, type: ErrorTypes.stuck, nonRetryable: !options.retryable, details: options.details === undefined ? [] : [options.details] });
}

/** For `.catch()`: a 404 becomes a non-retryable failure that says, in the caller's words, what is missing. */
export function notFoundAs(message: string): (err: unknown) => never {
  return (err: unknown): never => {
    if (err instanceof VendorError && err.isNotFound) throw nonRetryable(`${message} (${err.message})`, ErrorTypes.vendorNotFound);
    throw err;
  };
}
