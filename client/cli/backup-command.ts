/**
 * `backupctl backup <provider> …`: friendly flags per provider, turned into the same input the
 * generic `start` sends (and checked by the same schema).
 */
import { EndpointRegistry } from '../../lib/config/endpoints';
import { InvalidInputError } from '../errors';

export interface ProviderCommand {
  workflowType: string;
  /** Flags this provider understands, as `--name` → input field. */
  flags: Record<string, string>;
  /** Flags whose value is a number in the input. */
  numbers?: string[];
  /** Boolean flags → input field. */
  switches?: Record<string, string>;
  /** One line for the usage text. */
  usage: string;
}

export const providerCommands: Record<string, ProviderCommand> = {
  ovirt: {
    workflowType: 'ovirtSnapshotBackup',
    flags: { vm: 'vmId', 'proxy-vm': 'proxyVmId', description: 'description', 'copy-task-queue': 'copyTaskQueue' },
    switches: { 'keep-snapshot': 'keepSnapshot' },
    usage: 'ovirt --vm ID --proxy-vm ID [--description TEXT] [--keep-snapshot]',
  },
  altaro: {
    workflowType: 'altaroBackup',
    flags: { vm: 'vmRef' },
    usage: 'altaro --vm ALTARO-VM-REF',
  },
  azure: {
    workflowType: 'azureVmBackup',
    flags: { vm: 'vmName', 'vm-resource-id': 'vmResourceId', policy: 'policyName' },
    switches: { protect: 'protectIfNeeded' },
    usage: 'azure --vm NAME | --vm-resource-id ID [--protect [--policy NAME]]',
  },
  onapp: {
    workflowType: 'onappBackup',
    flags: { vm: 'virtualServerId', 'backup-type': 'backupType', disk: 'diskId', note: 'note' },
    numbers: ['vm', 'disk'],
    usage: 'onapp --vm VIRTUAL-SERVER-ID [--backup-type incremental|normal] [--disk ID]',
  },
  manageiq: {
    workflowType: 'manageiqSnapshot',
    flags: { vm: 'resourceId', collection: 'collection', description: 'description', keep: 'keep' },
    numbers: ['keep'],
    usage: 'manageiq --vm ID [--collection vms|instances] [--keep N]',
  },
};

/** The endpoint: the one given, or the only profile of that vendor in the local config. */
function defaultEndpoint(provider: string): string | undefined {
  try {
    const names = EndpointRegistry.load()
      .publicList()
      .filter((e) => e.vendor === provider)
      .map((e) => e.name);
    return names.length === 1 ? names[0] : undefined;
  } catch {
    return undefined;
  }
}

export function backupInput(provider: string, options: Record<string, string | boolean | undefined>): { workflowType: string; input: Record<string, unknown> } {
  const command = providerCommands[provider];
  if (!command) throw new InvalidInputError([`unknown provider "${provider}"; known: ${Object.keys(providerCommands).join(', ')}`], 'backup');
  const input: Record<string, unknown> = {};
  const endpoint = (options.endpoint as string | undefined) ?? defaultEndpoint(provider);
  if (endpoint) input.endpoint = endpoint;
  for (const [flag, field] of Object.entries(command.flags)) {
    const value = options[flag];
    if (typeof value !== 'string') continue;
    // A number flag that is not a number is passed as given: the schema then names the field.
    input[field] = command.numbers?.includes(flag) && /^\d+$/.test(value) ? Number(value) : value;
  }
  for (const [flag, field] of Object.entries(command.switches ?? {})) if (options[flag] === true) input[field] = true;
  return { workflowType: command.workflowType, input };
}

/** Every flag any provider knows, for the argument parser. */
export function allProviderFlags(): { strings: string[]; booleans: string[] } {
  const strings = new Set<string>(['endpoint']);
  const booleans = new Set<string>();
  for (const c of Object.values(providerCommands)) {
    Object.keys(c.flags).forEach((f) => strings.add(f));
    Object.keys(c.switches ?? {}).forEach((f) => booleans.add(f));
  }
  return { strings: [...strings], booleans: [...booleans] };
}
