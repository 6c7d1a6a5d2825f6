/**
 * A worker killed in the middle of an activity leaves its Altaro session open (the token died with
 * it). The next worker process on the host ends it from the session ledger, and leaves alone the
 * sessions of worker processes that are still alive.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AltaroClient } from '../../activities/altaro/client';
import { SessionLedger } from '../../activities/altaro/session-ledger';
import { altaroProfile } from '../../lib/config/profiles/altaro';
import { ALTARO_DEMO, createAltaroSimulator } from '../../simulators/altaro';

const PASSWORD = 'ledger-Test-Pa55word!';
const { simulator, state } = createAltaroSimulator({ password: PASSWORD });
let dir: string;

beforeAll(async () => {
  await simulator.start(0);
  dir = await mkdtemp(join(tmpdir(), 'altaro-ledger-'));
});
afterAll(async () => {
  await simulator.stop();
  await rm(dir, { recursive: true, force: true });
});

const profile = () => altaroProfile.parse({ vendor: 'altaro', url: simulator.url, productVersion: '9.1', auth: { username: ALTARO_DEMO.username, password: { env: 'LEDGER_PW' } } });
const env = { LEDGER_PW: PASSWORD };

/** A pid that surely belongs to no process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** Opens a session the way a worker process `pid` would have, and records it in that process's name. */
async function sessionOf(ledger: SessionLedger, pid: number): Promise<string> {
  const client = new AltaroClient(profile(), env, new SessionLedger(join(dir, 'scratch')));
  const token = await client.startSession();
  await ledger.opened(client.baseUrl, token, pid);
  await client.close();
  return token;
}

test("sessions of a killed worker are ended by the next client on the host; a live worker's are left alone", async () => {
  const ledger = new SessionLedger(join(dir, 'ledger'));
  const client = new AltaroClient(profile(), env, ledger);
  const dead = deadPid();
  const orphan = await sessionOf(ledger, dead);
  const alive = await sessionOf(ledger, process.ppid);
  assert.equal(state.openSessionCount(), 2);

  await client.withSession((s) => AltaroClient.listVms(s));

  assert.equal(state.openSessionCount(), 1, "the killed worker's session was ended, and the activity's own");
  const left = await readdir(ledger.dir);
  assert.deepEqual(
    left.map((f) => f.split('-')[0]),
    [String(process.ppid)],
    "only the live worker's entry is left",
  );
  assert.equal((await stat(join(ledger.dir, left[0]!))).mode & 0o777, 0o600, "the ledger is readable by the worker's user only");
  // The live one is still usable by its owner: ending it now works (and was not done by the sweep).
  await client.endSession(alive, process.ppid);
  assert.equal(state.openSessionCount(), 0);
  assert.ok(orphan !== alive);
  await client.close();
});

test("an activity's own session leaves no ledger entry once ended, also when the API had already expired it", async () => {
  const ledger = new SessionLedger(join(dir, 'own'));
  const client = new AltaroClient(profile(), env, ledger);
  await client.withSession(async (s) => {
    assert.equal((await readdir(ledger.dir)).length, 1, 'recorded while open');
    state.expireAllSessions();
    return AltaroClient.listVms(s);
  });
  assert.deepEqual(await readdir(ledger.dir), []);
  assert.equal(state.openSessionCount(), 0);
  await client.close();
});
