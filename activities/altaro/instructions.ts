/**
 * The one table of Altaro instructions: path per kind and which report tells its outcome.
 * take-backup, take-offsitecopy and abort-operation are documented; the paths of the other kinds
 * are not public, so a profile can override them (`instructionPaths`) to match a real install.
 */
import type { AltaroInstructionKind } from '../../contracts/altaro/instruction-kinds';

export interface InstructionSpec {
  /** Below the API base; the token and the VM ref follow as path segments. */
  path: string;
  /** The report that says how the operation ended. */
  report: 'backup' | 'restore';
  documented: boolean;
}

export const ALTARO_INSTRUCTIONS: Record<AltaroInstructionKind, InstructionSpec> = {
  'take-backup': { path: '/instructions/take-backup', report: 'backup', documented: true },
  'take-offsitecopy': { path: '/instructions/take-offsitecopy', report: 'backup', documented: true },
  restore: { path: '/instructions/restore', report: 'restore', documented: false },
  'seed-to-disk': { path: '/instructions/seed-to-disk', report: 'backup', documented: false },
  'sandbox-restore': { path: '/instructions/sandbox-restore', report: 'restore', documented: false },
  verification: { path: '/instructions/verification', report: 'restore', documented: false },
};

export const ABORT_OPERATION_PATH = '/instructions/abort-operation';

export function instructionPath(kind: AltaroInstructionKind, overrides?: Record<string, string>): string {
  return overrides?.[kind] ?? ALTARO_INSTRUCTIONS[kind].path;
}
