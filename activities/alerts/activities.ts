/**
 * `sendAlert`: one line to a person, once per event. The event id (contracts/alerts/events.ts) is
 * the same in every attempt; it goes out as the `Idempotency-Key` header and in the body, and the
 * ledger keeps the ids already delivered so a retried attempt does not post again. No webhook
 * configured: says so and sends nothing, without failing.
 */
import { alertEventId, alertLine, runUiUrl, type AlertEvent } from '../../contracts/alerts/events';
import { jsonAlertPayload, slackAlertPayload } from './schemas';
import { DeliveredLedger } from './ledger';
import type { AlertConfig } from './settings';
import { WebhookClient } from './webhook-client';

export interface SendAlertResult {
  sent: boolean;
  eventId: string;
  /** Why nothing went out now: no webhook, or delivered before. */
  reason?: string;
}

/** The activities, and `close` for the worker to call when it stops (the webhook's connections). */
export function createAlertActivities(config: AlertConfig) {
  const ledger = new DeliveredLedger(config.ledgerPath);
  const webhook = config.webhookUrl ? new WebhookClient(config.webhookUrl) : undefined;

  function payload(event: AlertEvent, eventId: string): unknown {
    const uiUrl = runUiUrl(config.uiBaseUrl, config.namespace, event.workflowId, event.runId);
    const text = alertLine(event, uiUrl);
    if (config.format === 'slack') return slackAlertPayload.parse({ text });
    return jsonAlertPayload.parse({
      event: event.kind,
      provider: event.provider,
      vmId: event.vmId ?? null,
      workflowType: event.workflowType,
      workflowId: event.workflowId,
      runId: event.runId,
      step: event.step,
      reason: event.reason,
      uiUrl,
      at: event.at,
      eventId,
      text,
    });
  }

  const activities = {
    async sendAlert(event: AlertEvent): Promise<SendAlertResult> {
      const eventId = alertEventId(event);
      if (!webhook) return { sent: false, eventId, reason: 'no alert webhook configured (ALERT_WEBHOOK_URL or ALERT_WEBHOOK_URL_FILE)' };
      if (await ledger.has(eventId)) return { sent: true, eventId, reason: 'delivered before' };
      await webhook.post(payload(event, eventId), eventId);
      await ledger.record(eventId);
      return { sent: true, eventId };
    },
  };
  return { activities, close: async () => webhook?.close() };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>['activities'];
