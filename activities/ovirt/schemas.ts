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

const vmFields = z.object({ '@_id': z.string().min(1), name: z.string(), description: z.string().optional(), status: z.string().optional() }).passthrough();
export const vmBody = z.object({ vm: vmFields });
/** GET /vms/{id}?all_content=true: the VM with its configuration (the OVF the engine keeps for it). */
export const vmConfigBody = z.object({
  vm: vmFields.extend({
    initialization: z
      .object({ configuration: z.object({ type: z.string().optional(), data: z.string() }).passthrough() })
      .passthrough()
      .optional(),
  }),
});
export const vmsBody = z.object({ vms: z.union([z.literal(''), z.object({ vm: z.union([vmFields, z.array(vmFields)]).optional() })]) });

export const diskFields = z
  .object({
    '@_id': z.string().min(1),
    name: z.string().optional(),
    alias: z.string().optional(),
    description: z.string().optional(),
    provisioned_size: int.optional(),
    actual_size: int.optional(),
    format: z.string().optional(),
    shareable: bool.optional(),
    storage_type: z.string().optional(),
    status: z.string().optional(),
    lun_storage: z.unknown().optional(),
    storage_domains: z.union([z.literal(''), z.object({ storage_domain: z.union([idRef, z.array(idRef)]).optional() })]).optional(),
  })
  .passthrough();
export type OvirtDisk = z.infer<typeof diskFields>;

export const diskBody = z.object({ disk: diskFields });
/** v3's /vms/{id}/disks and snapshot disk lists. */
export const disksBody = z.object({ disks: z.union([z.literal(''), z.object({ disk: z.union([diskFields, z.array(diskFields)]).optional() })]) });

const storageDomainFields = z
  .object({
    '@_id': z.string().min(1),
    name: z.string(),
    type: z.string().optional(),
    /** Free bytes; absent for a domain that is not active in a data center. */
    available: int.optional(),
    used: int.optional(),
  })
  .passthrough();
export type OvirtStorageDomain = z.infer<typeof storageDomainFields>;
export const storageDomainBody = z.object({ storage_domain: storageDomainFields });
export const storageDomainsBody = z.object({
  storage_domains: z.union([z.literal(''), z.object({ storage_domain: z.union([storageDomainFields, z.array(storageDomainFields)]).optional() })]),
});

const clusterFields = z.object({ '@_id': z.string().min(1), name: z.string() }).passthrough();
export const clusterBody = z.object({ cluster: clusterFields });
export const clustersBody = z.object({ clusters: z.union([z.literal(''), z.object({ cluster: z.union([clusterFields, z.array(clusterFields)]).optional() })]) });

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

const diskInterface = z.enum(['ide', 'virtio_scsi', 'virtio', 'spapr_vscsi', 'sata']);
const boolText = z.enum(['true', 'false']);

/** A floating disk (restore): POST /disks. */
export const createDiskRequest = z.object({
  disk: z.object({
    name: z.string().min(1),
    description: z.string().min(1),
    provisioned_size: z.string().regex(/^[1-9]\d*$/),
    format: z.enum(['raw', 'cow']),
    sparse: boolText,
    storage_domains: z.object({ storage_domain: z.array(idRef).length(1) }),
  }),
});

/** A disk itself (no snapshot) attached to a VM, v4. */
export const attachFloatingRequestV4 = z.object({
  disk_attachment: z.object({ disk: z.object({ '@_id': z.string().min(1) }).strict(), active: z.literal('true'), bootable: boolText, interface: diskInterface }),
});

/** A disk itself (no snapshot) attached to a VM, v3: `<disk id>` with no snapshot. */
export const attachFloatingRequestV3 = z.object({
  disk: z.object({ '@_id': z.string().min(1), active: z.literal('true'), bootable: boolText, interface: diskInterface }).strict(),
});

/** A VM from a saved OVF (restore): POST /vms. */
export const createVmRequest = z.object({
  vm: z.object({
    name: z.string().min(1),
    description: z.string().min(1),
    cluster: z.union([z.object({ '@_id': z.string().min(1) }).strict(), z.object({ name: z.string().min(1) }).strict()]),
    initialization: z.object({ configuration: z.object({ type: z.literal('ovf'), data: z.string().min(1) }) }),
  }),
});

/** The body of an action without parameters (start, stop). */
export const emptyActionRequest = z.object({ action: z.object({}).strict() });

/** v3's remove of a VM that keeps its disks (v4 says it with ?detach_only=true). */
export const removeVmDetachOnlyRequestV3 = z.object({ action: z.object({ vm: z.object({ disks: z.object({ detach_only: z.literal('true') }) }) }) });

// ---- the backup API (4.4+): VM backups, checkpoints, image transfers --------------------------------

const backupFields = z
  .object({
    '@_id': z.string().min(1),
    description: z.string().optional(),
    phase: z.enum(['initializing', 'starting', 'ready', 'finalizing', 'succeeded', 'failed']),
    from_checkpoint_id: z.string().optional(),
    to_checkpoint_id: z.string().optional(),
    creation_date: z.string().optional(),
  })
  .passthrough();
export type OvirtVmBackup = z.infer<typeof backupFields>;
export const backupBody = z.object({ backup: backupFields });
export const backupsBody = z.object({ backups: z.union([z.literal(''), z.object({ backup: z.union([backupFields, z.array(backupFields)]).optional() })]) });

/** A backup's disk: the disk with `backup_mode`, how the engine backs it up in this backup. */
const backupDiskFields = diskFields.extend({ backup_mode: z.enum(['full', 'incremental']).optional(), backup: z.string().optional() });
export const backupDisksBody = z.object({ disks: z.union([z.literal(''), z.object({ disk: z.union([backupDiskFields, z.array(backupDiskFields)]).optional() })]) });

const checkpointFields = z.object({ '@_id': z.string().min(1), parent_id: z.string().optional(), creation_date: z.string().optional(), state: z.string().optional() }).passthrough();
export type OvirtCheckpoint = z.infer<typeof checkpointFields>;
export const checkpointsBody = z.object({
  checkpoints: z.union([z.literal(''), z.object({ checkpoint: z.union([checkpointFields, z.array(checkpointFields)]).optional() })]),
});

const transferFields = z
  .object({
    '@_id': z.string().min(1),
    phase: z.string(),
    direction: z.string().optional(),
    transfer_url: z.string().optional(),
    proxy_url: z.string().optional(),
    disk: idRef.optional(),
    image: idRef.optional(),
    backup: idRef.optional(),
  })
  .passthrough();
export type OvirtImageTransfer = z.infer<typeof transferFields>;
export const transferBody = z.object({ image_transfer: transferFields });
export const transfersBody = z.object({
  image_transfers: z.union([z.literal(''), z.object({ image_transfer: z.union([transferFields, z.array(transferFields)]).optional() })]),
});

export const createBackupRequest = z.object({
  backup: z.object({
    description: z.string().min(1),
    from_checkpoint_id: z.string().min(1).optional(),
    disks: z.object({ disk: z.array(idRef).min(1) }),
  }),
});

export const createTransferRequest = z.object({
  image_transfer: z.object({
    disk: idRef,
    backup: idRef,
    direction: z.literal('download'),
    format: z.literal('raw'),
    inactivity_timeout: z.string().regex(/^\d+$/),
  }),
});

/** imageio: OPTIONS and the extents list (JSON). */
export const imageioOptionsBody = z.object({ features: z.array(z.string()).default([]), max_readers: z.number().optional() }).passthrough();
export const imageioExtentsBody = z.array(
  z.object({ start: z.number().int().min(0), length: z.number().int().min(0), zero: z.boolean().optional(), dirty: z.boolean().optional(), hole: z.boolean().optional() }).passthrough(),
);
export type ImageioExtent = z.infer<typeof imageioExtentsBody>[number];
