/**
 * The imageio Images API of one transfer URL, as the copy worker reads a backup: OPTIONS (does the
 * server give extents?), the extents list (context zero for a full, dirty for an incremental) and
 * range GETs, over HTTPS with the engine's CA. On the shared HTTP layer: its errors are VendorErrors.
 */
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import { HttpClient, type HttpRequest } from '../../lib/http/http-client';
import { parseVendorBody } from '../../lib/schema';
import { imageioExtentsBody, imageioOptionsBody, type ImageioExtent } from './schemas';

const VENDOR = 'ovirt';

export class ImageioClient {
  private readonly http: HttpClient;

  constructor(
    private readonly transferUrl: string,
    options: { ca?: string; timeoutMs?: number } = {},
  ) {
    this.http = new HttpClient({ vendor: VENDOR, baseUrl: transferUrl, timeoutMs: options.timeoutMs ?? 60_000, tls: options.ca ? { ca: options.ca } : undefined });
  }

  private json(req: HttpRequest, status: number, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return { unparseable: text.slice(0, 200), status };
    }
  }

  async features(): Promise<string[]> {
    const req: HttpRequest = { method: 'OPTIONS', path: this.transferUrl };
    const res = await this.http.request(req);
    // An old server answers 405 (no OPTIONS) or 204 (an old proxy): it has no extents.
    if (res.status === 405 || res.status === 204) return [];
    if (res.status !== 200) throw this.http.statusError(req, res, res.text.trim().slice(0, 300));
    return parseVendorBody(imageioOptionsBody, this.json(req, res.status, res.text), { vendor: VENDOR, operation: this.http.describe(req), status: res.status }).features;
  }

  async extents(context: 'zero' | 'dirty'): Promise<ImageioExtent[]> {
    const req: HttpRequest = { method: 'GET', path: `${this.transferUrl}/extents`, query: { context } };
    const res = await this.http.request(req);
    if (res.status !== 200) throw this.http.statusError(req, res, res.text.trim().slice(0, 300));
    return parseVendorBody(imageioExtentsBody, this.json(req, res.status, res.text), { vendor: VENDOR, operation: this.http.describe(req), status: res.status });
  }

  /** Bytes [start, start + length) of the image. */
  async read(start: number, length: number): Promise<Buffer> {
    const req: HttpRequest = { method: 'GET', path: this.transferUrl, headers: { range: `bytes=${start}-${start + length - 1}` } };
    const res = await this.http.requestBytes(req);
    if (res.status !== 206 && res.status !== 200) throw this.http.statusError(req, res, res.body.toString('utf8').trim().slice(0, 300));
    if (res.body.length !== length) throw nonRetryable(`imageio ${this.http.describe(req)} gave ${res.body.length} bytes for a range of ${length}`, ErrorTypes.malformedResponse);
    return res.body;
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
