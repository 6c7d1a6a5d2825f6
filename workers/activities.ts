/** All vendor activities of the main worker, built from the endpoint profiles. */
import { withFailureMapping } from '../lib/errors';
import { EndpointClients } from '../activities/endpoint-clients';
import { createOvirtActivities } from '../activities/ovirt/activities';
import { createOvirtRestoreActivities } from '../activities/ovirt/restore-activities';
import { createOvirtIncrementalActivities } from '../activities/ovirt/incremental-activities';
import { createRunStatusActivities } from '../activities/run-status';
import { createAltaroActivities } from '../activities/altaro/activities';
import { createOnappActivities } from '../activities/onapp/activities';
import { createOnappRestoreActivities } from '../activities/onapp/restore';
import { createManageiqActivities } from '../activities/manageiq/activities';
import { createAzureActivities } from '../activities/azure/activities';
import { createReaperActivities } from '../activities/reaper';
import { createOvirtReaperActivities } from '../activities/ovirt/reaper';
import { createManageiqReaperActivities } from '../activities/manageiq/reaper';
import { createOnappReaperActivities } from '../activities/onapp/reaper';
import { createAzureReaperActivities } from '../activities/azure/reaper';
import { createFleetTableActivities } from '../activities/fleet-table';
import type { AlertActivities } from '../activities/alerts/activities';
import { createRpoActivities } from '../activities/alerts/rpo';

/** `alerts`: sendAlert, built by the worker from its alert settings (it closes the webhook's connections). */
export function createMainActivities(clients: EndpointClients, alerts: AlertActivities) {
  return withFailureMapping({
    ...createOvirtActivities(clients),
    ...createOvirtRestoreActivities(clients),
    ...createOvirtIncrementalActivities(clients),
    ...createRunStatusActivities(),
    ...createAltaroActivities(clients),
    ...createOnappActivities(clients),
    ...createOnappRestoreActivities(clients),
    ...createManageiqActivities(clients),
    ...createAzureActivities(clients),
    ...createReaperActivities(clients),
    ...createOvirtReaperActivities(clients),
    ...createManageiqReaperActivities(clients),
    ...createOnappReaperActivities(clients),
    ...createAzureReaperActivities(clients),
    ...createFleetTableActivities(),
    ...alerts,
    ...createRpoActivities(),
  });
}
