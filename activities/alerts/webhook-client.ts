/**
 * Posts an alert to the configured webhook on the shared HTTP layer. The URL is a secret (a Slack
 * webhook's path is its key), so no error this client throws names it: the operation reads
 * "POST alert webhook" and any echo of the URL in a network error is blanked.
 */
import { HttpClient } from '../../lib/http/http-client';
import { VendorError, isRetryableStatus } from '../../lib/errors';

const VENDOR = 'alert webhook';
const OPERATION = 'POST alert webhook';

export class WebhookClient {
  private readonly http: HttpClient;
  private readonly url: URL;

  constructor(webhookUrl: string, timeoutMs = 10_000) {
    this.url = new URL(webhookUrl);
    this.http = new HttpClient({ vendor: VENDOR, baseUrl: this.url.origin, timeoutMs, connectTimeoutMs: Math.min(timeoutMs, 10_000) });
  }

  /** Resolves when the webhook took it (2xx); a 5xx or no answer is retryable, any other status is not (isRetryableStatus). */
  async post(body: unknown, idempotencyKey: string): Promise<void> {
    let status: number;
    let text: string;
    try {
      ({ status, text } = await this.http.request({
        method: 'POST',
        path: this.url.href,
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify(body),
      }));
    } catch (err) {
      const e = err as VendorError;
      throw new VendorError({ vendor: VENDOR, operation: OPERATION, vendorMessage: this.redact(e.vendorMessage ?? String(err)), retryable: e.retryable ?? true, code: e.code });
    }
    if (status >= 200 && status < 300) return;
    throw new VendorError({ vendor: VENDOR, operation: OPERATION, status, vendorMessage: this.redact(text.slice(0, 200) || `HTTP ${status}`), retryable: isRetryableStatus(status) });
  }

  private redact(message: string): string {
    let out = message;
    for (const secret of [this.url.href, this.url.pathname + this.url.search]) if (secret.length > 1) out = out.split(secret).join('<webhook>');
    return out;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
