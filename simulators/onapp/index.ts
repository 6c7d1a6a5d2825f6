/**
 * The OnApp Control Panel simulator: `.json` and `.xml` resources for virtual servers, their disks
 * and backups (Rails-style JSON wrapping, XML with typed attributes), HTTP Basic, 422 `errors`.
 */
import { parseXml } from '../../lib/xml';
import type { SimClock } from '../framework/clock';
import { Router } from '../framework/router';
import { Simulator } from '../framework/simulator';
import type { SimRequest, SimResponse } from '../framework/types';
import { OnappFault, OnappState, notFound, type BackupView } from './state';

export { ONAPP_DEMO, OnappState } from './state';

export interface OnappSimulatorOptions {
  username?: string;
  password?: string;
  /** How long a backup is being built; default 3000 ms. */
  buildMs?: number;
  /** How long a restore keeps things locked; default 1500 ms. */
  restoreMs?: number;
  clock?: SimClock;
}

export const ONAPP_DEFAULTS = { username: 'admin', password: 'onapp-sim-password', buildMs: 3000, restoreMs: 1500 } as const;

type Format = 'json' | 'xml';
type Value = string | number | boolean | null;

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const DATE_FIELDS = new Set(['built_at', 'created_at', 'updated_at']);

/** One Rails-style XML element: `type` attributes for non-strings, `nil="true"` for null. */
function xmlField(name: string, value: Value, indent: string): string {
  const type = DATE_FIELDS.has(name) ? 'datetime' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'float') : typeof value === 'boolean' ? 'boolean' : undefined;
  const typeAttr = type ? ` type="${type}"` : '';
  if (value === null) return `${indent}<${name}${typeAttr} nil="true"/>`;
  return `${indent}<${name}${typeAttr}>${escapeXml(String(value))}</${name}>`;
}

function xmlRecord(root: string, record: Record<string, Value>, indent = ''): string {
  const fields = Object.entries(record).map(([k, v]) => xmlField(k, v, `${indent}  `));
  return `${indent}<${root}>\n${fields.join('\n')}\n${indent}</${root}>`;
}

function render(format: Format, status: number, root: string, value: Record<string, Value> | Array<Record<string, Value>>): SimResponse {
  if (format === 'json') {
    const body = Array.isArray(value) ? value.map((v) => ({ [root]: v })) : { [root]: value };
    return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
  }
  const body = Array.isArray(value)
    ? value.length
      ? `<${root}s type="array">\n${value.map((v) => xmlRecord(root, v, '  ')).join('\n')}\n</${root}s>`
      : `<${root}s type="array"/>`
    : xmlRecord(root, value);
  return { status, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: XML_DECL + body + '\n' };
}

export function errorResponse(format: Format, status: number, errors: string[] | Record<string, string[]>): SimResponse {
  if (format === 'json') return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ errors }) };
  const list = Array.isArray(errors) ? errors : Object.entries(errors).flatMap(([k, msgs]) => msgs.map((m) => (k === 'base' ? m : `${k} ${m}`)));
  return {
    status,
    headers: { 'content-type': 'application/xml; charset=utf-8' },
    body: `${XML_DECL}<errors>\n${list.map((e) => `  <error>${escapeXml(e)}</error>`).join('\n')}\n</errors>\n`,
  };
}

function noContent(): SimResponse {
  return { status: 204 };
}

/** `123.json` → id 123, json. */
function splitFormat(segment: string): { id: number; format: Format } {
  const m = /^(\d+)\.(json|xml)$/.exec(segment);
  if (!m) throw new OnappFault(404, ['Page not found (use a .json or .xml resource)']);
  return { id: Number(m[1]), format: m[2] as Format };
}

function readNote(req: SimRequest, format: Format): string | null {
  if (!req.body.trim()) return null;
  try {
    if (format === 'json') {
      const body = JSON.parse(req.body) as { backup?: { note?: unknown } };
      return typeof body.backup?.note === 'string' ? body.backup.note : null;
    }
    const doc = parseXml(req.body) as { backup?: { note?: unknown } };
    return typeof doc.backup?.note === 'string' ? doc.backup.note : null;
  } catch {
    throw new OnappFault(422, { base: ['Request body could not be parsed'] });
  }
}

export function createOnappSimulator(options: OnappSimulatorOptions = {}): { simulator: Simulator; state: OnappState } {
  const state = new OnappState({ buildMs: options.buildMs ?? ONAPP_DEFAULTS.buildMs, restoreMs: options.restoreMs ?? ONAPP_DEFAULTS.restoreMs, clock: options.clock });
  const username = options.username ?? ONAPP_DEFAULTS.username;
  const password = options.password ?? ONAPP_DEFAULTS.password;
  const router = new Router();
  const views = (list: ReturnType<OnappState['backupsOf']>) => list.map((b) => state.view(b) as unknown as Record<string, Value>);

  /** A route for both formats, whether the format is a literal suffix or part of an id segment. */
  const both = (method: string, pattern: string, handler: (req: SimRequest, format: Format) => SimResponse) => {
    for (const format of ['json', 'xml'] as const) {
      router.add(method, `${pattern}.${format}`, (req) => guard(format, () => handler(req, format)));
    }
  };
  const withId = (method: string, pattern: string, key: string, handler: (req: SimRequest, id: number, format: Format) => SimResponse) => {
    router.add(method, pattern, (req) => {
      const segment = req.params[key]!;
      const format: Format = segment.endsWith('.xml') ? 'xml' : 'json';
      return guard(format, () => {
        const { id } = splitFormat(segment);
        return handler(req, id, format);
      });
    });
  };
  const guard = (format: Format, run: () => SimResponse): SimResponse => {
    try {
      return run();
    } catch (err) {
      if (err instanceof OnappFault) return errorResponse(format, err.status, err.errors);
      throw err;
    }
  };
  const int = (value: string | undefined, what: string) => {
    if (!value || !/^\d+$/.test(value)) throw notFound(what);
    return Number(value);
  };

  withId('GET', '/virtual_machines/:vm', 'vm', (_req, id, format) => {
    const vm = state.server(id);
    const locked = vm.restoringUntil !== undefined && vm.restoringUntil > state.now();
    return render(format, 200, 'virtual_machine', {
      id: vm.id,
      identifier: vm.identifier,
      label: vm.label,
      hostname: vm.hostname,
      booted: vm.booted && !locked,
      locked,
      memory: vm.memoryMb,
      operating_system: vm.operatingSystem,
      operating_system_distro: vm.operatingSystemDistro,
      template_id: vm.templateId,
    });
  });
  both('GET', '/virtual_machines/:vm/disks', (req, format) =>
    render(
      format,
      200,
      'disk',
      state.disksOf(int(req.params.vm, 'VirtualMachine')).map((d) => ({ id: d.id, label: d.label, disk_size: d.sizeGb, primary: d.primary, is_swap: d.isSwap, virtual_machine_id: d.vmId })),
    ),
  );
  both('GET', '/virtual_machines/:vm/backups', (req, format) => render(format, 200, 'backup', views(state.backupsOf(int(req.params.vm, 'VirtualMachine')))));
  both('GET', '/virtual_machines/:vm/backups/images', (req, format) => render(format, 200, 'backup', views(state.backupsOf(int(req.params.vm, 'VirtualMachine'), 'normal'))));
  both('GET', '/virtual_machines/:vm/backups/files', (req, format) => render(format, 200, 'backup', views(state.backupsOf(int(req.params.vm, 'VirtualMachine'), 'incremental'))));
  both('GET', '/virtual_machines/:vm/disks/:disk/backups', (req, format) => {
    const vmId = int(req.params.vm, 'VirtualMachine');
    const disk = state.disk(int(req.params.disk, 'Disk'));
    if (disk.vmId !== vmId) throw notFound('Disk');
    return render(format, 200, 'backup', views(state.backupsOfDisk(disk.id)));
  });
  both('GET', '/settings/disks/:disk/backups', (req, format) => render(format, 200, 'backup', views(state.backupsOfDisk(int(req.params.disk, 'Disk')))));
  both('POST', '/settings/disks/:disk/backups', (req, format) =>
    render(format, 201, 'backup', state.view(state.takeDiskBackup(int(req.params.disk, 'Disk'), readNote(req, format))) as unknown as Record<string, Value>),
  );
  both('POST', '/virtual_machines/:vm/backups', (req, format) =>
    render(format, 201, 'backup', state.view(state.takeIncrementalBackup(int(req.params.vm, 'VirtualMachine'), readNote(req, format))) as unknown as Record<string, Value>),
  );
  withId('GET', '/backups/:backup', 'backup', (_req, id, format) => render(format, 200, 'backup', state.view(state.backup(id)) as unknown as Record<string, Value>));
  withId('DELETE', '/backups/:backup', 'backup', (_req, id) => {
    state.deleteBackup(id);
    return noContent();
  });
  both('POST', '/backups/:backup/restore', (req) => {
    state.restoreBackup(int(req.params.backup, 'Backup'));
    return { status: 201, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '' };
  });

  const authenticate = (req: SimRequest): SimResponse | undefined => {
    const format: Format = req.path.endsWith('.xml') ? 'xml' : 'json';
    const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    if (decoded === `${username}:${password}`) return undefined;
    const response = errorResponse(format, 401, ['You need to sign in or sign up before continuing.']);
    response.headers = { ...response.headers, 'www-authenticate': 'Basic realm="Application"' };
    return response;
  };

  const simulator = new Simulator({
    name: 'onapp',
    apiPrefix: '',
    router,
    renderError: (status, message) => errorResponse('json', status, status === 422 ? { base: [message] } : [message]),
    authenticate,
    state,
  });
  return { simulator, state };
}

export type { BackupView };
