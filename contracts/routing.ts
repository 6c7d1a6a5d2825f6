/**
 * Every workflow type's catalog entry without its input schema: what the fleet and scheduled
 * workflows need to route a run (provider, subject, workflow id, proxy, inventory and retention
 * activities). Importing this builds no schema; an entry's `loadInput` builds its own on demand.
 */
import type { WorkflowRoute } from './catalog-entry';
import { alertsCatalog } from './alerts/catalog';
import { altaroCatalog } from './altaro/catalog';
import { azureCatalog } from './azure/catalog';
import { fleetCatalog } from './fleet/catalog';
import { manageiqCatalog } from './manageiq/catalog';
import { onappCatalog } from './onapp/catalog';
import { ovirtCatalog } from './ovirt/catalog';
import { reaperCatalog } from './reaper/catalog';
import { repositoryCatalog } from './repository/catalog';

export const workflowRoutes = {
  ...ovirtCatalog,
  ...altaroCatalog,
  ...onappCatalog,
  ...manageiqCatalog,
  ...azureCatalog,
  ...reaperCatalog,
  ...repositoryCatalog,
  ...fleetCatalog,
  ...alertsCatalog,
} satisfies Record<string, WorkflowRoute>;

export function workflowRoute(workflowType: string): WorkflowRoute | undefined {
  return Object.hasOwn(workflowRoutes, workflowType) ? (workflowRoutes as Record<string, WorkflowRoute>)[workflowType] : undefined;
}

/** The workflow id a run gets: per VM for backups (one at a time), unique otherwise. */
export function workflowIdFor(workflowType: string, input: Record<string, unknown>, unique: string): string {
  const route = workflowRoute(workflowType);
  const subject = route?.subject(input);
  if (route?.kind === 'backup' && subject) return `backup-${route.provider}-${subject}`;
  return `${workflowType}-${unique}`;
}
