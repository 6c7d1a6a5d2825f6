/**
 * Reads the VM configuration out of an OVF envelope the engine wrote (ovfFor in xml-views.ts):
 * what `POST /vms` with `initialization/configuration` takes from it. Disks it names are not
 * created: the restore procedure attaches the restored disks afterwards.
 */
import { asArray, parseXml } from '../../lib/xml';
import { OvirtFault } from './state';

type Node = Record<string, unknown>;

export interface OvfVm {
  name?: string;
  description?: string;
  /** Bytes. */
  memory?: number;
  sockets?: number;
  cores?: number;
  osType?: string;
}

const RESOURCE_CPU = '3';
const RESOURCE_MEMORY = '4';

export function parseOvf(text: string): OvfVm {
  let doc: Node;
  try {
    doc = parseXml(text);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const envelope = doc['ovf:Envelope'] as Node | undefined;
  const content = envelope?.Content as Node | undefined;
  if (!content || typeof content !== 'object') throw invalid('no ovf:Envelope/Content');
  const sections = asArray(content.Section as Node | Node[] | undefined);
  const os = sections.find((s) => String(s['@_xsi:type'] ?? '').endsWith('OperatingSystemSection_Type'));
  const hardware = sections.find((s) => String(s['@_xsi:type'] ?? '').endsWith('VirtualHardwareSection_Type'));
  const items = asArray(hardware?.Item as Node | Node[] | undefined);
  const cpu = items.find((i) => String(i['rasd:ResourceType']) === RESOURCE_CPU);
  const memory = items.find((i) => String(i['rasd:ResourceType']) === RESOURCE_MEMORY);
  return {
    name: str(content.Name),
    description: str(content.Description),
    memory: memory ? num(memory['rasd:VirtualQuantity']) * 1024 * 1024 || undefined : undefined,
    sockets: cpu ? num(cpu['rasd:num_of_sockets']) || undefined : undefined,
    cores: cpu ? num(cpu['rasd:cpu_per_socket']) || undefined : undefined,
    osType: str(os?.Description),
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

function invalid(detail: string): OvirtFault {
  return new OvirtFault(400, 'Bad Request', `Failed to parse the OVF configuration: ${detail}`);
}
