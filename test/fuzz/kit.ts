/**
 * Shared pieces of the property-based ("fuzz") tests: seed and run counts from the environment,
 * a counter that prints one line per target, the arbitraries that turn a valid vendor body into a
 * bad one, a tiny HTTP server that answers with whatever a case says, and the check that every
 * client call settles with a value or a VendorError (never a TypeError, never a hang).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MalformedResponseError, VendorError } from '../../lib/errors';
import { XMLBuilder } from 'fast-xml-parser';

// --- seed, runs, counts --------------------------------------------------------------------------

/** FUZZ_SEED (default fixed, so CI is reproducible) and FUZZ_RUNS (cases per target). */
export const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
export function runsFor(defaultRuns: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}
/** fast-check parameters: fixed seed, a run count, and the failing seed/path in the report. */
export function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, verbose: 1, endOnFailure: false };
}

const counts = new Map<string, number>();
export function count(target: string): void {
  counts.set(target, (counts.get(target) ?? 0) + 1);
}
export function countOf(target: string): number {
  return counts.get(target) ?? 0;
}
/** "fuzz <target>: N cases" lines and a total, for the file's output. */
export function report(title: string): string {
  const lines = [...counts.entries()].map(([t, n]) => `fuzz ${t}: ${n} cases`);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...lines, `fuzz ${title} total: ${total} cases over ${counts.size} targets (seed ${SEED})`].join('\n');
}

// --- unhandled rejections ------------------------------------------------------------------------

const unhandled: unknown[] = [];
let guardInstalled = false;
/** Records every unhandled rejection; `assertNoUnhandled` fails the test that saw one. */
export function installUnhandledGuard(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  process.on('unhandledRejection', (reason) => unhandled.push(reason));
}
export async function assertNoUnhandled(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    unhandled.map((r) => String(r)),
    [],
    'unhandled promise rejections',
  );
}

// --- body arbitraries ----------------------------------------------------------------------------

/** Strings that have broken parsers before: URLs, dates, numbers as text, prototype keys. */
export const nastyString = fc.constantFrom(
  '',
  ' ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e400',
  'NaN',
  '9007199254740993',
  '2024-02-30T25:61:61Z',
  '+275760-09-13T00:00:00.001Z',
  'not a date',
  'http://[',
  'http://',
  '//',
  '../../etc/passwd',
  'not a url',
  '__proto__',
  'constructor',
  'toString',
  '<vm/>',
  ']]>',
  '&amp;&lt;',
  '\u0000',
  '\ud800',
  'é'.repeat(3),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -0, {}, []) },
);

/** Every path inside a JSON-like value (object keys and array indexes), the root excluded. */
export function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
  return [];
}

export type Mutation = { path: Array<string | number>; action: 'remove' | 'replace' | 'null' | 'wrap'; value?: unknown };

/** A deep copy of `doc` with one field removed, set to null, wrapped in an array, or replaced. */
export function mutate(doc: unknown, m: Mutation): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  const parent = m.path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], copy) as Record<string | number, unknown>;
  const key = m.path[m.path.length - 1]!;
  if (m.action === 'remove') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (m.action === 'null') parent[key] = null;
  else if (m.action === 'wrap') parent[key] = [parent[key], parent[key]];
  else parent[key] = m.value;
  return copy;
}

export function mutationOf(doc: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(doc);
  return fc.record({
    path: fc.constantFrom(...paths),
    action: fc.constantFrom('remove', 'replace', 'replace', 'null', 'wrap'),
    value: anyValue,
  });
}

/** XML documents of random shape, with the vendor's own element names mixed in. */
export function randomXmlDoc(names: string[]): fc.Arbitrary<Record<string, unknown>> {
  const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...names, '@_id', '@_type', '@_nil', '#text') }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) });
  const { node } = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.string({ maxLength: 12 }), nastyString),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      fc.array(tie('node'), { maxLength: 3 }),
    ),
  }));
  return fc.dictionary(fc.constantFrom(...names), node, { minKeys: 1, maxKeys: 2 }) as fc.Arbitrary<Record<string, unknown>>;
}

/** Text that looks a bit like XML and mostly is not. */
export const xmlishText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '<',
        '>',
        '</',
        '/>',
        '<?xml version="1.0"?>',
        '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
        '&a;',
        '<![CDATA[',
        ']]>',
        '<!--',
        '-->',
        '="',
        '"',
        ' id=',
        '&#x0;',
        '&#xD800;',
        '&unknown;',
      ),
      fc.string({ maxLength: 5 }),
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

export type Format = 'json' | 'xml';

/**
 * Writes the fuzz bodies as a vendor would. Same options as lib/xml's builder except that an
 * attribute whose value is "true" stays `nil="true"` (lib/xml's builder writes a bare `nil`, which
 * lib/xml's own parser refuses; our clients never send such attributes, so that is left alone).
 */
const vendorXml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, suppressBooleanAttributes: false, format: false });

export function serialize(doc: unknown, format: Format): string {
  if (format === 'json') return JSON.stringify(doc) ?? 'undefined';
  try {
    return vendorXml.build(doc) as string;
  } catch {
    // The builder refuses some generated documents (e.g. a "__proto__" element): send them as JSON.
    return JSON.stringify(doc) ?? '';
  }
}

/**
 * Bodies for one target: its valid sample with one field mutated, cut short, random JSON,
 * random XML (XML vendors), random text and random bytes.
 */
export function bodyArb(sample: unknown, format: Format, xmlNames: string[] = []): fc.Arbitrary<{ kind: string; body: string | Uint8Array }> {
  const text = serialize(sample, format);
  const tagged = (kind: string) => (body: string | Uint8Array) => ({ kind, body });
  const arbs: Array<fc.WeightedArbitrary<{ kind: string; body: string | Uint8Array }>> = [
    {
      weight: 6,
      arbitrary: mutationOf(sample)
        .map((m) => serialize(mutate(sample, m), format))
        .map(tagged('mutated')),
    },
    {
      weight: 2,
      arbitrary: fc
        .nat({ max: Math.max(0, text.length - 1) })
        .map((n) => text.slice(0, n))
        .map(tagged('truncated')),
    },
    {
      weight: 2,
      arbitrary: fc
        .jsonValue({ maxDepth: 3 })
        .map((v) => JSON.stringify(v) ?? '')
        .map(tagged('random-json')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(tagged('random-text')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }).map(tagged('random-bytes')) },
  ];
  if (format === 'xml') {
    arbs.push({
      weight: 2,
      arbitrary: randomXmlDoc(xmlNames)
        .map((d) => serialize(d, 'xml'))
        .map(tagged('random-xml')),
    });
    arbs.push({ weight: 1, arbitrary: xmlishText.map(tagged('xmlish-text')) });
  }
  return fc.oneof(...arbs);
}

// --- the answering server ------------------------------------------------------------------------

export interface Answer {
  status: number;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Announce more bytes than are sent, then drop the connection (a body cut in transit). */
  cut?: boolean;
}

export interface Plan {
  /** Requests whose path matches get the fuzz answer once, then `fallback`. */
  fuzz: RegExp;
  answer: Answer;
  fallback: Answer;
  /** Fixed answers for the calls around the one under test (login, session, …). */
  routes?: Array<[RegExp, Answer]>;
}

export class FuzzServer {
  private server?: Server;
  plan?: Plan;
  private fuzzed = false;
  requests = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  use(plan: Plan): void {
    this.plan = plan;
    this.fuzzed = false;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    req.on('end', () => {
      this.requests++;
      const path = (req.url ?? '/').split('?')[0]!;
      const plan = this.plan;
      let answer: Answer = { status: 404, body: 'no route' };
      if (plan) {
        const route = plan.routes?.find(([re]) => re.test(path));
        if (route) answer = route[1];
        else if (plan.fuzz.test(path)) {
          answer = this.fuzzed ? plan.fallback : plan.answer;
          this.fuzzed = true;
        }
      }
      send(res, answer);
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

function send(res: ServerResponse, answer: Answer): void {
  const body = answer.body === undefined ? Buffer.alloc(0) : Buffer.from(answer.body);
  const headers: Record<string, string | number> = { ...answer.headers };
  if (answer.cut) {
    res.writeHead(answer.status, { ...headers, 'content-length': body.length + 64 });
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    setImmediate(() => res.socket?.destroy());
    return;
  }
  if (answer.status === 204 || answer.status === 304) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  res.writeHead(answer.status, { ...headers, 'content-length': body.length });
  res.end(body);
}

// --- what a settled call may look like -----------------------------------------------------------

/** Secrets the fuzz clients are configured with: no error message may ever contain them. */
export const SECRETS = ['fuzz-Secret-Passw0rd', 'fuzz-SESSION-token-7f3a', 'fuzz-bearer-token-91c2'];

export type Outcome = { ok: true; value: unknown } | { ok: false; error: VendorError };

/**
 * Runs a client call with a hang guard and checks how it settled: a value, or a VendorError
 * (a MalformedResponseError names the field or says the body is not JSON), never another error
 * type, never a secret in the message.
 */
export async function settle(label: string, call: () => Promise<unknown>, hangMs = 15_000): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer after ${hangMs} ms (hang)`)), hangMs);
  });
  try {
    const value = await Promise.race([call(), hang]);
    return { ok: true, value };
  } catch (err) {
    if (!(err instanceof VendorError)) {
      const e = err as Error;
      assert.fail(`${label}: settled with ${e?.constructor?.name ?? typeof err} instead of a VendorError: ${e?.stack ?? String(err)}`);
    }
    for (const secret of SECRETS) assert.ok(!err.message.includes(secret), `${label}: a secret leaked into the error: ${err.message}`);
    if (err instanceof MalformedResponseError) assertNamesField(label, err.vendorMessage);
    // The vendor's own words may be empty ({"errors":[]}); the message then still says the HTTP status.
    assert.ok(err.vendorMessage.trim().length > 0 || err.status !== undefined, `${label}: an error that says nothing: ${err.message}`);
    return { ok: false, error: err };
  } finally {
    clearTimeout(timer);
  }
}

/** "unexpected response body: <path>: <problem>[; …]" or "… not JSON: …". */
export function assertNamesField(label: string, vendorMessage: string): void {
  const m = /^unexpected response body: (.*)$/s.exec(vendorMessage);
  assert.ok(m, `${label}: malformed-body message has an unexpected form: ${vendorMessage}`);
  const rest = m[1]!;
  if (/^not JSON/.test(rest)) return;
  assert.match(rest, /^(\(root\)|\S.*?): \S/s, `${label}: malformed-body message names no field: ${vendorMessage}`);
}
