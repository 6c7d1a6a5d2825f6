/**
 * `npm run chaos`: the full fault matrix against every workflow's simulator; prints the table and
 * writes it (with every case) to .artifacts/chaos/. Exit code 1 if any case leaked, duplicated,
 * hung or failed without naming its step.
 *
 *   npm run chaos                               # every target, every fault
 *   npm run chaos -- --only ovirt --kinds drop,worker-sigkill
 *   npm run chaos -- --only ovirt-incremental-restic --points mid-transfer   # kills at matching kill points only
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChaosCluster } from './cluster';
import { formatTable, runMatrix, summarize, summarizeTotal } from './matrix';
import { TARGETS } from './targets';
import type { CaseResult } from './types';

const { values } = parseArgs({ options: { only: { type: 'string' }, kinds: { type: 'string' }, points: { type: 'string' }, out: { type: 'string', default: '.artifacts/chaos' } } });
const only = values.only?.split(',');
const kinds = values.kinds?.split(',');
const points = values.points?.split(',');

const dir = await mkdtemp(join(tmpdir(), 'chaos-run-'));
const cluster = await ChaosCluster.start(dir);
const results: CaseResult[] = [];
try {
  for (const [name, make] of Object.entries(TARGETS)) {
    if (only && !only.includes(name)) continue;
    const target = await make();
    try {
      await runMatrix(cluster, target, {
        ...(kinds ? { kinds } : {}),
        ...(points ? { points } : {}),
        onResult: (r) => {
          results.push(r);
          const bad = r.leftovers.length + r.duplicates.length > 0 || r.outcome === 'hung' || r.outcome === 'failed-unclear';
          console.log(
            `${bad ? 'BAD ' : 'ok  '} ${r.workflow} ${r.fault} ${r.detail} → ${r.outcome}${r.faultsFired ? '' : ' (fault did not fire)'} ${r.ms} ms${r.message ? ` — ${r.message.slice(0, 160)}` : ''}${r.leftovers.length ? ` LEFTOVERS: ${r.leftovers.join('; ')}` : ''}${r.leftToVendor?.length ? ` left to the vendor: ${r.leftToVendor.join('; ')}` : ''}${r.duplicates.length ? ` DUPLICATES: ${r.duplicates.join('; ')}` : ''}${r.leftInRepository?.length ? ` left in the repository: ${r.leftInRepository.join('; ')}` : ''}`,
          );
        },
      });
    } finally {
      await target.stop();
    }
  }
} finally {
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}

const rows = summarize(results);
const total = summarizeTotal(rows);
console.log(`\n${formatTable(rows)}\n`);
await mkdir(values.out!, { recursive: true });
const file = join(values.out!, `chaos-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify({ at: new Date().toISOString(), total, rows, cases: results }, null, 2));
console.log(`written ${file}`);
// The Temporal core runtime keeps the process alive: exit explicitly.
process.exit(total.leftovers + total.duplicates + total.unclear > 0 ? 1 : 0);
