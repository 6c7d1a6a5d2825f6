/**
 * The imageio daemon a transfer's URL points at (ovirt-imageio's Images API, the parts a backup
 * download uses): `OPTIONS /images/{ticket}` (features), `GET /images/{ticket}` with a single
 * `Range`, and `GET /images/{ticket}/extents?context=zero|dirty`. HTTPS with a self-signed
 * certificate the copy worker is given as its CA. A ticket is readable only while its transfer is
 * `transferring`. Built on the simulator framework: its own faults and call log.
 */
import { join } from 'node:path';
import { Router } from '../framework/router';
import { Simulator } from '../framework/simulator';
import type { SimRequest, SimResponse } from '../framework/types';
import { ensureSelfSignedCert } from '../azure/tls';
import type { OvirtState } from './state';

const json = (status: number, value: unknown): SimResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
const error = (status: number, message: string): SimResponse => ({ status, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: `${message}\n` });

export function createImageioSimulator(state: OvirtState, certDir: string): { imageio: Simulator; caFile: string } {
  const tls = ensureSelfSignedCert(certDir);
  const router = new Router();
  const noTicket = (id: string) => error(403, `You are not allowed to access this resource: No such ticket ${id}`);

  router.add('OPTIONS', '/:ticket', (req: SimRequest) => {
    // The special "*" ticket: what the server can do; a concrete one: what this (read-only) ticket allows.
    if (req.params.ticket !== '*' && !state.backups.ticket(req.params.ticket!)) return noTicket(req.params.ticket!);
    const features = req.params.ticket === '*' ? ['extents', 'zero', 'flush'] : ['extents'];
    return { ...json(200, { features, max_readers: 8, max_writers: 1 }), headers: { 'content-type': 'application/json', allow: 'OPTIONS,GET' } };
  });

  router.get('/:ticket/extents', async (req: SimRequest) => {
    const found = state.backups.ticket(req.params.ticket!);
    if (!found) return noTicket(req.params.ticket!);
    const context = req.query.get('context') ?? 'zero';
    if (context !== 'zero' && context !== 'dirty') return error(400, `Invalid context: ${context}`);
    if (context === 'dirty' && found.disk.mode !== 'incremental') return error(404, 'Dirty extents are available only during an incremental backup');
    return json(200, await state.backups.extents(found.disk, context));
  });

  router.get('/:ticket', async (req: SimRequest) => {
    const found = state.backups.ticket(req.params.ticket!);
    if (!found) return noTicket(req.params.ticket!);
    const size = found.disk.size;
    const range = req.headers.range;
    let start = 0;
    let end = size - 1;
    if (range !== undefined) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range.trim());
      if (!m) return error(416, `Range Not Satisfiable: multiple or malformed ranges are not supported: ${range}`);
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start > end || start >= size) return error(416, `Range Not Satisfiable: ${range} of ${size} bytes`);
    }
    const body = await state.backups.read(found.transfer, found.disk, start, end);
    return {
      status: range !== undefined ? 206 : 200,
      headers: { 'content-type': 'application/octet-stream', ...(range !== undefined ? { 'content-range': `bytes ${start}-${end}/*` } : {}) },
      body,
      note: `served ${body.length} bytes`,
    };
  });

  const imageio = new Simulator({
    name: 'ovirt-imageio',
    apiPrefix: '/images',
    router,
    renderError: (status, message, detail) => error(status, detail ? `${message}: ${detail}` : message),
    tls: { key: tls.key, cert: tls.cert },
    // Its tickets are the engine's state: the engine's reset clears them.
    state: { reset: () => undefined, clock: state.clock },
  });
  return { imageio, caFile: tls.certFile };
}

export const imageioCertDir = (dataDir: string) => join(dataDir, 'imageio-tls');
