/** zod schemas for the ManageIQ REST API bodies the snapshot client sends and reads. */
import { z } from 'zod';

/** ManageIQ ids are bigints serialised as strings (older appliances send numbers). */
const id = z.union([z.string().min(1), z.number().int()]).transform(String);
const date = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 date');

export const errorBody = z.object({
  error: z.object({ kind: z.string().optional(), message: z.string(), klass: z.string().optional() }),
});

export const authBody = z.object({ auth_token: z.string().min(1), token_ttl: z.number().optional(), expires_on: z.string().optional() });

export const actionRef = z.object({ name: z.string(), method: z.string(), href: z.string() });

export const entryPointBody = z.object({
  name: z.string(),
  version: z.string(),
  collections: z.array(z.object({ name: z.string(), href: z.string() })),
});

export const resourceBody = z.object({ id, href: z.string().optional(), name: z.string(), type: z.string().optional() });

export const snapshotFields = z.object({
  id,
  href: z.string(),
  name: z.string().nullable(),
  description: z.string().nullable().optional(),
  create_time: date.nullable().optional(),
  vm_or_template_id: id.nullable().optional(),
  uid: z.string().nullable().optional(),
  parent_id: id.nullable().optional(),
  current: z.union([z.number(), z.boolean()]).nullable().optional(),
  total_size: z.number().nullable().optional(),
});
export type RawSnapshot = z.output<typeof snapshotFields>;

/** Without expand=resources the list holds hrefs only. */
const snapshotRef = z.object({ href: z.string() });

export const snapshotsBody = z.object({
  name: z.string(),
  count: z.number().int(),
  subcount: z.number().int(),
  subquery_count: z.number().int().optional(),
  pages: z.number().int().optional(),
  resources: z.array(z.union([snapshotFields, snapshotRef])),
  links: z.object({ self: z.string().optional(), next: z.url().optional(), previous: z.string().optional(), first: z.string().optional(), last: z.string().optional() }).optional(),
  actions: z.array(actionRef).optional(),
});

export const actionResult = z.object({
  success: z.boolean(),
  message: z.string().optional().default(''),
  task_id: id.optional(),
  task_href: z.string().optional(),
  href: z.string().optional(),
});
export type RawActionResult = z.output<typeof actionResult>;

export const resultsBody = z.object({ results: z.array(actionResult) });

export const taskBody = z.object({
  id,
  href: z.string().optional(),
  name: z.string().optional(),
  state: z.string(),
  status: z.string(),
  message: z.string().nullable().optional(),
  pct_complete: z.number().nullable().optional(),
  updated_on: z.string().optional(),
});

/** GET /tasks?expand=resources: the tasks collection. */
export const tasksBody = z.object({ resources: z.array(taskBody) });

// ---- the typed shapes the activities and workflows use ------------------------------------------

export type ManageiqCollection = 'vms' | 'instances';

export interface ManageiqSnapshot {
  id: string;
  href: string;
  name: string;
  description: string | null;
  /** ISO-8601 UTC. */
  createTime: string | null;
  vmOrTemplateId: string | null;
  current: boolean;
}

export interface ManageiqActionResult {
  success: boolean;
  message: string;
  taskId?: string;
  taskHref?: string;
  href?: string;
}

export interface ManageiqTask {
  id: string;
  name?: string;
  state: string;
  status: string;
  message: string | null;
  pctComplete: number | null;
}

export function toSnapshot(raw: RawSnapshot): ManageiqSnapshot {
  return {
    id: raw.id,
    href: raw.href,
    name: raw.name ?? '',
    description: raw.description ?? null,
    createTime: raw.create_time ? new Date(raw.create_time).toISOString() : null,
    vmOrTemplateId: raw.vm_or_template_id ?? null,
    current: raw.current === true || raw.current === 1,
  };
}

export function toResult(raw: RawActionResult): ManageiqActionResult {
  const result: ManageiqActionResult = { success: raw.success, message: raw.message };
  if (raw.task_id !== undefined) result.taskId = raw.task_id;
  if (raw.task_href !== undefined) result.taskHref = raw.task_href;
  if (raw.href !== undefined) result.href = raw.href;
  return result;
}
