/** Inputs of altaroOperation and altaroBackup; shared by the workflows, the client library and the CLI. */
import { z } from 'zod';
import { endpointName, vendorId } from '../input-fields';
import { ALTARO_INSTRUCTION_KINDS } from './instruction-kinds';

const tracking = {
  /** First interval between two looks at the operation; it grows by half each poll. */
  pollIntervalMs: z.number().int().min(50).max(600_000).default(2_000),
  /** The interval stops growing here. */
  maxPollIntervalMs: z.number().int().min(50).max(3_600_000).default(60_000),
  /** Give up (and abort the operation) after this long. */
  operationTimeoutHours: z
    .number()
    .min(0.001)
    .max(24 * 30)
    .default(48),
  /** How long to wait for the operation's report once it has left the status list. */
  reportTimeoutSeconds: z.number().int().min(1).max(3_600).default(300),
};

const base = {
  endpoint: endpointName,
  /** AltaroVirtualMachineRef, as /vms/list shows it. */
  vmRef: vendorId('vmRef'),
};

export const altaroOperationInput = z
  .strictObject({
    ...base,
    kind: z.enum(ALTARO_INSTRUCTION_KINDS, { error: `kind must be one of ${ALTARO_INSTRUCTION_KINDS.join(', ')}` }).default('take-backup'),
    /** JSON body of the instruction (restore target, backup location …); no secrets. */
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    ...tracking,
  })
  .refine((i) => i.maxPollIntervalMs >= i.pollIntervalMs, { message: 'maxPollIntervalMs must be at least pollIntervalMs', path: ['maxPollIntervalMs'] });

export const altaroBackupInput = z
  .strictObject({ ...base, ...tracking })
  .refine((i) => i.maxPollIntervalMs >= i.pollIntervalMs, { message: 'maxPollIntervalMs must be at least pollIntervalMs', path: ['maxPollIntervalMs'] });

export type AltaroOperationInput = z.input<typeof altaroOperationInput>;
export type AltaroOperationParsed = z.output<typeof altaroOperationInput>;
export type AltaroBackupInput = z.input<typeof altaroBackupInput>;
