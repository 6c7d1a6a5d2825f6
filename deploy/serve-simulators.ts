/**
 * The compose `demo` profile's simulators: every vendor simulator on its demo port, listening on
 * all interfaces, and the endpoint profiles (URLs on the `simulators` host, secrets by env name)
 * plus the demo credentials written to the shared volume for the demo workers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSimulators } from '../simulators/serve';

const dataDir = process.env.SIM_DATA_DIR ?? '/sim-data';
const publicHost = process.env.SIM_PUBLIC_HOST ?? 'simulators';
await mkdir(dataDir, { recursive: true });
const sims = await startSimulators({ dataDir, host: '0.0.0.0' });
const endpoints = JSON.parse(JSON.stringify(sims.endpoints).replace(/\/\/(?:0\.0\.0\.0|127\.0\.0\.1|localhost):/g, `//${publicHost}:`));
await writeFile(join(dataDir, 'endpoints.json'), JSON.stringify({ endpoints }, null, 2));
// Demo credentials only (they are public in simulators/*/demo.ts), for the demo workers' environment.
await writeFile(
  join(dataDir, 'secrets.env'),
  Object.entries(sims.secrets)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n',
);
await writeFile(join(dataDir, 'extra.json'), JSON.stringify(sims.extra, null, 2));
console.log(`simulators up: ${sims.simulators.map((s) => `${s.name} ${s.apiUrl}`).join(', ')}`);
const stop = async () => {
  await sims.stop();
  process.exit(0);
};
// A signal listener cannot be awaited; stop() ends the process itself.
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
