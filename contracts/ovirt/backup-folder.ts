/** Where in the repository a backup run writes: ovirt/<vm name>-<vm id 8>/<start minute>-<run tag>/. */
export function backupFolder(vm: { id: string; name: string }, startedAt: string, runTag: string): string {
  return `ovirt/${safeName(vm.name)}-${vm.id.slice(0, 8)}/${startedAt.replace(/[:.]/g, '').slice(0, 15)}-${runTag}`;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64) || 'vm';
}
