/**
 * zod schemas for the oVirt XML bodies we send and receive, as fast-xml-parser reads them
 * (attributes under "@_", every scalar a string).
 */
import { z } from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = z.string().regex(/^\d+$/, 'expected a whole number').transform(Number);
const idRef = z.object({ '@_id': z.string().min(1) }).passthrough();

export const faultBody = z.object({
  fault: z.object({ reason: z.string().optional(), detail: z.string().optional() }).passthrough(),
});

const vmFields = z.object({ '@_id': z.string().min(1), name: z.string(), status: z.string().optional() }).passthrough();
export const vmBody = z.object({ vm: vmFields });
export const vmsBody = z.object({ vms: z.union([z.literal(''), z.object({ vm: z.union([vmFields, z.array(vmFields)]).optional() })]) });

export const diskFields = z
  .object({
    '@_id': z.string().min(1),
    name: z.string().optional(),
    alias: z.string().optional(),
    provisioned_size: int.optional(),
    actual_size: int.optional(),
    format: z.string().optional(),
    shareable: bool.optional(),
    storage_type: z.string().optional(),
    status: z.string().optional(),
    lun_storage: z.unknown().optional(),
  })
  .passthrough();
export type OvirtDisk = z.infer<typeof diskFields>;

export const diskBody = z.object({ disk: diskFields });
/** v3's /vms/{id}/disks and snapshot disk lists. */
export const disksBody = z.object({ disks: z.union([z.literal(''), z.object({ disk: z.union([diskFields, z.array(diskFields)]).optional() })]) });

const attachmentFields = z
  .object({
    '@_id': z.string().min(1),
    active: bool.optional(),
    bootable: bool.optional(),
    interface: z.string().optional(),
    logical_name: z.string().optional(),
    disk: idRef,
  })
  .passthrough();
export type OvirtAttachment = z.infer<typeof attachmentFields>;

export const attachmentBody = z.object({ disk_attachment: attachmentFields });
export const attachmentsBody = z.object({
  disk_attachments: z.union([z.literal(''), z.object({ disk_attachment: z.union([attachmentFields, z.array(attachmentFields)]).optional() })]),
});

const snapshotFields = z
  .object({
    '@_id': z.string().min(1),
    description: z.string().optional(),
    snapshot_status: z.enum(['ok', 'locked', 'in_preview']).optional(),
    snapshot_type: z.string().optional(),
    /** v3 name of snapshot_type. */
    type: z.string().optional(),
    date: z.string().optional(),
    persist_memorystate: bool.optional(),
    initialization: z
      .object({ configuration: z.object({ type: z.string().optional(), data: z.string() }).passthrough() })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type OvirtSnapshot = z.infer<typeof snapshotFields>;

export const snapshotBody = z.object({ snapshot: snapshotFields });
export const snapshotsBody = z.object({
  snapshots: z.union([z.literal(''), z.object({ snapshot: z.union([snapshotFields, z.array(snapshotFields)]).optional() })]),
});

export const ssoTokenBody = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  exp: z.union([z.string(), z.number()]).optional(),
});
export const ssoErrorBody = z.object({ error: z.string(), error_description: z.string().optional() }).passthrough();

/** Request bodies, checked before they are sent so a bug of ours fails here, not at the engine. */
export const createSnapshotRequest = z.object({
  snapshot: z.object({
    description: z.string().min(1),
    persist_memorystate: z.literal('false'),
    disk_attachments: z.object({ disk_attachment: z.array(z.object({ disk: idRef })) }).optional(),
    disks: z.object({ disk: z.array(idRef) }).optional(),
  }),
});

export const attachRequestV4 = z.object({
  disk_attachment: z.object({
    disk: z.object({ '@_id': z.string().min(1), snapshot: idRef }),
    active: z.literal('true'),
    bootable: z.literal('false'),
    interface: z.enum(['ide', 'virtio_scsi', 'virtio', 'spapr_vscsi', 'sata']),
  }),
});

export const attachRequestV3 = z.object({
  disk: z.object({ '@_id': z.string().min(1), snapshot: idRef, active: z.literal('true') }),
});

export const detachRequestV3 = z.object({ action: z.object({ detach: z.literal('true') }) });
