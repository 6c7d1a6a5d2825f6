/**
 * Activity metrics of the workers, through the SDK's activity `metricMeter` (exported with the
 * SDK's own on the Prometheus endpoint): bytes copied and the duration of every activity.
 */
import { CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { METRIC } from './names';

/** Activities whose result is a copy with `bytes`. */
const COPY_ACTIVITIES = new Set(['copyDisk']);

export function metricsActivityInterceptor(ctx: Context): { inbound: ActivityInboundCallsInterceptor } {
  const meter = ctx.metricMeter;
  const activityType = ctx.info.activityType;
  return {
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const started = performance.now();
        let result = 'ok';
        try {
          const value = await next(input);
          if (COPY_ACTIVITIES.has(activityType)) {
            const bytes = (value as { bytesReadFromDevice?: number; bytes?: number } | undefined)?.bytesReadFromDevice ?? (value as { bytes?: number })?.bytes;
            if (typeof bytes === 'number' && bytes > 0) meter.createCounter(METRIC.bytesCopied, '', 'disk bytes copied into the repository').add(bytes);
          }
          return value;
        } catch (err) {
          result = err instanceof CancelledFailure ? 'cancelled' : 'error';
          throw err;
        } finally {
          try {
            meter.createHistogram(METRIC.activityDuration, 'int', 'milliseconds', 'activity execution time').record(Math.round(performance.now() - started), { result });
          } catch {
            // metrics are best effort
          }
        }
      },
    },
  };
}
