export interface SimRequest {
  method: string;
  /** Path below the simulator's API prefix, without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: string;
  params: Record<string, string>;
  /** Base URL the client used, for absolute links (Azure's async headers, ManageIQ hrefs). */
  origin: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** What the vendor made of the call (e.g. "detached" or "disk removed"), kept in the call log for tests; never sent. */
  note?: string;
}

/** What a vendor's error body looks like; each simulator gives its own. */
export type ErrorRenderer = (status: number, message: string, detail?: string) => SimResponse;
