/**
 * The SDK runtime of a worker process: log level and, when configured, the Prometheus endpoint
 * (SDK metrics plus the project's, see ./names). Must run before any connection or worker is made.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { WorkerSettings } from '../config/worker-settings';

export function installRuntime(settings: Pick<WorkerSettings, 'metrics' | 'logLevel'>): Runtime {
  return Runtime.install({
    logger: new DefaultLogger(settings.logLevel as LogLevel),
    telemetryOptions: {
      logging: { filter: { core: settings.logLevel, other: settings.logLevel } },
      ...(settings.metrics.bindAddress
        ? {
            metrics: {
              globalTags: settings.metrics.globalTags,
              prometheus: { bindAddress: settings.metrics.bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: false },
            },
          }
        : {}),
    },
  });
}
