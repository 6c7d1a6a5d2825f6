/** What the webhook receives, checked before it is sent. */
import { z } from 'zod';

const oneLine = z
  .string()
  .min(1)
  .regex(/^[^\n\r]*$/, 'one line');

/** The generic format: every field a receiver may route or dedupe on, and the line a person reads. */
export const jsonAlertPayload = z.strictObject({
  event: z.enum(['failed', 'drill-failed', 'check-failed', 'needs-attention', 'rpo-missed']),
  provider: z.string().min(1),
  vmId: z.string().nullable(),
  workflowType: z.string().min(1),
  workflowId: z.string().min(1),
  runId: z.string().min(1),
  step: z.string(),
  reason: z.string(),
  uiUrl: z.url(),
  at: z.iso.datetime({ offset: true }),
  eventId: z.string().min(1),
  text: oneLine,
});

/** Slack's incoming-webhook body (also what Mattermost, Rocket.Chat and Teams' Slack mode read). */
export const slackAlertPayload = z.strictObject({ text: oneLine });

export type JsonAlertPayload = z.output<typeof jsonAlertPayload>;
export type SlackAlertPayload = z.output<typeof slackAlertPayload>;
