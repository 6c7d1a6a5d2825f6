/** Where the worker and clients find Temporal; one place for the defaults. */
import { localStackFile, readLocalStack } from '../config/local-stack';
import { temporalConnectionFromEnv, type TemporalConnectionSettings } from './connection';
import { DEFAULT_TASK_QUEUE } from './task-queues';

export interface TemporalSettings {
  address: string;
  /** Where the address came from, for messages: TEMPORAL_ADDRESS, the local stack (npm start), or the default. */
  addressSource: string;
  namespace: string;
  taskQueue: string;
  /** Address, namespace and credentials (TEMPORAL_TLS_*, TEMPORAL_API_KEY) for temporalConnectionOptions. */
  connection: TemporalConnectionSettings;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const stack = env.TEMPORAL_ADDRESS ? undefined : readLocalStack(env);
  const [address, addressSource] = env.TEMPORAL_ADDRESS
    ? [env.TEMPORAL_ADDRESS, 'from TEMPORAL_ADDRESS']
    : stack
      ? [stack.temporalAddress, `the local stack's, from ${localStackFile(env)} (npm start); TEMPORAL_ADDRESS overrides it`]
      : ['127.0.0.1:7233', 'the default; TEMPORAL_ADDRESS moves it'];
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  return {
    address,
    addressSource,
    namespace,
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    // The shell's own TEMPORAL_TLS_* win over the certificate paths the local stack gives.
    connection: temporalConnectionFromEnv({ ...stack?.temporalTlsEnv, ...env }, { address, namespace }),
  };
}
