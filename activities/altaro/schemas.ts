/**
 * Altaro VM Backup REST bodies, from the vendor's reference: every answer is the envelope
 * { Success, ErrorCode, ErrorMessage, ErrorAdditionalDetails } plus the call's payload key.
 */
import { z } from 'zod';

export const envelope = z.looseObject({
  Success: z.boolean(),
  ErrorCode: z.union([z.number(), z.string()]).nullish(),
  ErrorMessage: z.string().nullish(),
  ErrorAdditionalDetails: z.unknown().optional(),
});
export type Envelope = z.infer<typeof envelope>;

export const sessionStartBody = envelope.extend({ Data: z.string().min(1) });
export const instructionBody = envelope.extend({ Data: z.string().min(1) });

export const virtualMachine = z.looseObject({
  AltaroVirtualMachineRef: z.string(),
  VirtualMachineName: z.string().optional(),
  HostName: z.string().nullish(),
  Configured: z.boolean().optional(),
  LastBackupTime: z.string().nullish(),
  LastBackupResult: z.string().nullish(),
});
export const vmListBody = envelope.extend({ VirtualMachines: z.array(virtualMachine) });
export type AltaroVm = z.infer<typeof virtualMachine>;

export const operationStatus = z.looseObject({
  OperationGuid: z.string().optional(),
  Status: z.string(),
  Percentage: z.number().nullish(),
  SubOperation: z.string().nullish(),
  JobId: z.union([z.string(), z.number()]).nullish(),
  Operation: z.string().nullish(),
});
export const operationStatusBody = envelope.extend({ Statuses: z.array(operationStatus).nullish() });
export type AltaroOperationStatus = z.infer<typeof operationStatus>;

/** Report entries: Result is Success|Warning|Error|Unknown (|Aborted for restores). */
export const report = z.looseObject({
  DateTime: z.string(),
  Duration: z.number().nullish(),
  Result: z.string(),
  Location: z.string().nullish(),
  Error: z.string().nullish(),
});
export type AltaroReport = z.infer<typeof report>;
export const backupReportsBody = envelope.extend({ BackupReports: z.array(report).nullish() });
export const restoreReportsBody = envelope.extend({ RestoreReports: z.array(report).nullish() });

/**
 * Altaro writes times as "2024-08-13-01-53-14"; ISO strings are accepted too. Returns epoch ms
 * (read as UTC: only used to order reports of the same server), or NaN.
 */
export function parseAltaroTime(value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[-T ](\d{2})[-:](\d{2})[-:](\d{2})/.exec(value);
  if (m) return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Date.parse(value);
}
