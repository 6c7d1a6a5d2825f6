/** Entry point of the main worker: workflows and vendor activities. */
import { NativeConnection } from '@temporalio/worker';
import { EndpointRegistry } from '../lib/config/endpoints';
import { temporalSettings } from '../lib/temporal/settings';
import { createMainWorker } from './worker-factory';

const settings = temporalSettings();
const endpoints = EndpointRegistry.load();
const connection = await NativeConnection.connect({ address: settings.address });
const { worker, close } = await createMainWorker({ connection, namespace: settings.namespace, taskQueue: settings.taskQueue, endpoints });
console.log(`main worker polling "${settings.taskQueue}" on ${settings.address} (endpoints: ${endpoints.names().join(', ')})`);
await worker.run();
await close();
await connection.close();
