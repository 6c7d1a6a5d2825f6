/** All vendor activities of the main worker, built from the endpoint profiles. */
import { withFailureMapping } from '../lib/errors';
import { EndpointClients } from '../activities/endpoint-clients';
import { createOvirtActivities } from '../activities/ovirt/activities';

export function createMainActivities(clients: EndpointClients) {
  return withFailureMapping({
    ...createOvirtActivities(clients),
  });
}
