/** An Azure job as the workflows see it: status, progress, tasks and errors, flattened from AzureIaaSVMJob. */
import { terminalJobStatuses, type AzureJob } from './schemas';

export interface AzureJobSummary {
  jobId: string;
  operation: string;
  entity: string;
  status: string;
  startTime: string;
  endTime?: string;
  duration?: string;
  progressPercentage?: number;
  estimatedRemainingDuration?: string;
  tasks: Array<{ taskId: string; status: string; progressPercentage?: number; duration?: string }>;
  errors: Array<{ code?: number; title?: string; message?: string; recommendations?: string[] }>;
  properties: Record<string, string>;
  terminal: boolean;
}

export function summarizeJob(job: AzureJob): AzureJobSummary {
  const p = job.properties;
  return {
    jobId: job.name,
    operation: p.operation,
    entity: p.entityFriendlyName,
    status: p.status,
    startTime: p.startTime,
    endTime: p.endTime,
    duration: p.duration,
    progressPercentage: p.extendedInfo?.progressPercentage,
    estimatedRemainingDuration: p.extendedInfo?.estimatedRemainingDuration,
    tasks: (p.extendedInfo?.tasksList ?? []).map((t) => ({ taskId: t.taskId, status: t.status, progressPercentage: t.progressPercentage, duration: t.duration })),
    errors: (p.errorDetails ?? []).map((e) => ({ code: e.errorCode, title: e.errorTitle, message: e.errorString, recommendations: e.recommendations })),
    properties: p.extendedInfo?.propertyBag ?? {},
    terminal: terminalJobStatuses.includes(p.status),
  };
}
