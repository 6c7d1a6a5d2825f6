/**
 * zod schemas for OnApp's backup resources in both of its formats. JSON wraps Rails-style
 * (`[{"backup":{…}}]`); XML carries types as attributes (`type="integer|boolean|datetime"`,
 * `nil="true"`), and fast-xml-parser reads every scalar as a string. Both schemas produce the same
 * raw snake_case record, which `toOnappBackup` turns into the one typed shape.
 */
import { z } from 'zod';
import { asArray } from '../../lib/xml';

// ---- JSON ---------------------------------------------------------------------------------------

const jInt = z.number().int();
const jDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date');

export const jsonBackupFields = z.object({
  id: jInt,
  identifier: z.string(),
  backup_type: z.enum(['normal', 'incremental']),
  target_type: z.enum(['Disk', 'VirtualMachine']),
  target_id: jInt,
  built: z.boolean(),
  built_at: jDate.nullable(),
  locked: z.boolean(),
  initiated: z.string().nullable().optional(),
  backup_size: z.number().nullable().optional(),
  backup_server_id: jInt.nullable().optional(),
  created_at: jDate,
  updated_at: jDate,
  allowed_hot_migrate: z.boolean().nullable().optional(),
  allowed_swap: z.boolean().nullable().optional(),
  allow_resize_without_reboot: z.boolean().nullable().optional(),
  data_store_type: z.string().nullable().optional(),
  iqn: z.string().nullable().optional(),
  min_disk_size: jInt.nullable().optional(),
  min_memory_size: jInt.nullable().optional(),
  note: z.string().nullable().optional(),
  operating_system: z.string().nullable().optional(),
  operating_system_distro: z.string().nullable().optional(),
  template_id: jInt.nullable().optional(),
  user_id: jInt.nullable().optional(),
  image_type: z.string().nullable().optional(),
  marked_for_delete: z.boolean().nullable().optional(),
  volume_id: jInt.nullable().optional(),
  disk_id: jInt.nullable().optional(),
});
export type RawOnappBackup = z.output<typeof jsonBackupFields>;

export const jsonBackupBody = z.object({ backup: jsonBackupFields });
export const jsonBackupsBody = z.array(jsonBackupBody);

// ---- XML ----------------------------------------------------------------------------------------

const xNil = z.object({ '@_nil': z.literal('true') }).transform(() => null);
const xText = z.union([z.string(), z.object({ '#text': z.string() }).transform((v) => v['#text'])]);
const xInt = z
  .union([z.string(), z.object({ '@_type': z.literal('integer').optional(), '#text': z.string() }).transform((v) => v['#text'])])
  .pipe(z.string().regex(/^-?\d+$/, 'expected an integer'))
  .transform(Number);
const xNumber = z
  .union([z.string(), z.object({ '@_type': z.enum(['integer', 'float', 'decimal']).optional(), '#text': z.string() }).transform((v) => v['#text'])])
  .pipe(z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number'))
  .transform(Number);
const xBool = z
  .union([z.string(), z.object({ '@_type': z.literal('boolean').optional(), '#text': z.string() }).transform((v) => v['#text'])])
  .pipe(z.enum(['true', 'false'], 'expected true or false'))
  .transform((v) => v === 'true');
const xDate = z
  .object({ '@_type': z.literal('datetime').optional(), '#text': z.string() })
  .transform((v) => v['#text'])
  .pipe(jDate);

const nullable = <T extends z.ZodType>(t: T) => z.union([xNil, t]);
const orNull = <T extends z.ZodType>(t: T) => nullable(t).optional();

export const xmlBackupFields = z.object({
  id: xInt,
  identifier: xText,
  backup_type: xText.pipe(z.enum(['normal', 'incremental'])),
  target_type: xText.pipe(z.enum(['Disk', 'VirtualMachine'])),
  target_id: xInt,
  built: xBool,
  built_at: nullable(xDate),
  locked: xBool,
  initiated: orNull(xText),
  backup_size: orNull(xNumber),
  backup_server_id: orNull(xInt),
  created_at: xDate,
  updated_at: xDate,
  allowed_hot_migrate: orNull(xBool),
  allowed_swap: orNull(xBool),
  allow_resize_without_reboot: orNull(xBool),
  data_store_type: orNull(xText),
  iqn: orNull(xText),
  min_disk_size: orNull(xInt),
  min_memory_size: orNull(xInt),
  note: orNull(xText),
  operating_system: orNull(xText),
  operating_system_distro: orNull(xText),
  template_id: orNull(xInt),
  user_id: orNull(xInt),
  image_type: orNull(xText),
  marked_for_delete: orNull(xBool),
  volume_id: orNull(xInt),
  disk_id: orNull(xInt),
});

export const xmlBackupBody = z.object({ backup: xmlBackupFields });
/** `<backups type="array">` with zero, one or many `<backup>` children. */
export const xmlBackupsBody = z.object({
  backups: z
    .union([z.literal(''), z.object({ backup: z.unknown().optional() }).transform((v) => asArray(v.backup as unknown[] | undefined))])
    .pipe(z.union([z.literal(''), z.array(xmlBackupFields)]))
    .transform((v) => (v === '' ? [] : v)),
});

// ---- virtual servers and disks -----------------------------------------------------------------

export const jsonVirtualServerBody = z.object({
  virtual_machine: z.object({
    id: jInt,
    identifier: z.string(),
    label: z.string(),
    hostname: z.string().nullable().optional(),
    locked: z.boolean().optional(),
    booted: z.boolean().optional(),
  }),
});
export const xmlVirtualServerBody = z.object({
  virtual_machine: z.object({
    id: xInt,
    identifier: xText,
    label: xText,
    hostname: orNull(xText),
    locked: xBool.optional(),
    booted: xBool.optional(),
  }),
});

const jsonDisk = z.object({ id: jInt, label: z.string().nullable().optional(), disk_size: jInt, primary: z.boolean(), is_swap: z.boolean().optional() });
export const jsonDisksBody = z.array(z.object({ disk: jsonDisk }));
const xmlDisk = z.object({ id: xInt, label: orNull(xText), disk_size: xInt, primary: xBool, is_swap: xBool.optional() });
export const xmlDisksBody = z.object({
  disks: z
    .union([z.literal(''), z.object({ disk: z.unknown().optional() }).transform((v) => asArray(v.disk as unknown[] | undefined))])
    .pipe(z.union([z.literal(''), z.array(xmlDisk)]))
    .transform((v) => (v === '' ? [] : v)),
});

// ---- errors -------------------------------------------------------------------------------------

/** 422 `{"errors":{"base":["…"]}}` or `{"errors":["…"]}`. */
export const jsonErrorsBody = z.object({
  errors: z.union([z.array(z.string()), z.record(z.string(), z.union([z.array(z.string()), z.string()]))]),
});
export const xmlErrorsBody = z.object({
  errors: z.object({ error: z.union([xText, z.array(xText)]) }),
});

// ---- the one typed shape ------------------------------------------------------------------------

export interface OnappBackup {
  id: number;
  identifier: string;
  backupType: 'normal' | 'incremental';
  targetType: 'Disk' | 'VirtualMachine';
  targetId: number;
  built: boolean;
  /** ISO-8601, UTC; null while the backup is being taken. */
  builtAt: string | null;
  locked: boolean;
  initiated: string | null;
  /** kB, as OnApp reports it. */
  backupSizeKb: number | null;
  backupServerId: number | null;
  createdAt: string;
  updatedAt: string;
  allowedHotMigrate: boolean | null;
  allowedSwap: boolean | null;
  allowResizeWithoutReboot: boolean | null;
  dataStoreType: string | null;
  iqn: string | null;
  minDiskSizeGb: number | null;
  minMemorySizeMb: number | null;
  note: string | null;
  operatingSystem: string | null;
  operatingSystemDistro: string | null;
  templateId: number | null;
  userId: number | null;
  imageType: string | null;
  markedForDelete: boolean | null;
  volumeId: number | null;
  /** The disk of a normal (per-disk) backup. */
  diskId: number | null;
}

const iso = (s: string) => new Date(s).toISOString();
const n = <T>(v: T | null | undefined): T | null => (v === undefined ? null : v);

export function toOnappBackup(raw: RawOnappBackup): OnappBackup {
  return {
    id: raw.id,
    identifier: raw.identifier,
    backupType: raw.backup_type,
    targetType: raw.target_type,
    targetId: raw.target_id,
    built: raw.built,
    builtAt: raw.built_at === null ? null : iso(raw.built_at),
    locked: raw.locked,
    initiated: n(raw.initiated),
    backupSizeKb: n(raw.backup_size),
    backupServerId: n(raw.backup_server_id),
    createdAt: iso(raw.created_at),
    updatedAt: iso(raw.updated_at),
    allowedHotMigrate: n(raw.allowed_hot_migrate),
    allowedSwap: n(raw.allowed_swap),
    allowResizeWithoutReboot: n(raw.allow_resize_without_reboot),
    dataStoreType: n(raw.data_store_type),
    iqn: n(raw.iqn),
    minDiskSizeGb: n(raw.min_disk_size),
    minMemorySizeMb: n(raw.min_memory_size),
    note: n(raw.note),
    operatingSystem: n(raw.operating_system),
    operatingSystemDistro: n(raw.operating_system_distro),
    templateId: n(raw.template_id),
    userId: n(raw.user_id),
    imageType: n(raw.image_type),
    markedForDelete: n(raw.marked_for_delete),
    volumeId: n(raw.volume_id),
    diskId: n(raw.disk_id),
  };
}

export interface OnappVirtualServer {
  id: number;
  identifier: string;
  label: string;
  hostname: string | null;
  locked: boolean | null;
  booted: boolean | null;
}

export interface OnappDisk {
  id: number;
  label: string | null;
  diskSizeGb: number;
  primary: boolean;
  isSwap: boolean | null;
}
