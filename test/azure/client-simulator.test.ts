/**
 * The Azure client against the HTTPS simulator without Temporal: the REST reference's example
 * requests, token caching and renewal, the one async tracker with both header kinds and
 * Retry-After, and ARM errors in failures.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { AzureClient } from '../../activities/azure/client';
import { followOperation } from '../../activities/azure/follow-operation';
import * as schemas from '../../activities/azure/schemas';
import { VendorError } from '../../lib/errors';
import { azureProfile } from '../../lib/config/profiles/azure';
import { AZURE_TEST_SECRET, startAzureSim } from '../helpers/azure-harness';
import { ArmInspector } from '../helpers/azure-inspect';

type Sim = Awaited<ReturnType<typeof startAzureSim>>;
let s: Sim;
let client: AzureClient;
beforeAll(async () => {
  s = await startAzureSim();
  client = new AzureClient(azureProfile.parse(s.profile), { TEST_AZURE_CLIENT_SECRET: AZURE_TEST_SECRET });
});
afterAll(async () => {
  await client?.close();
  await s?.simulator.stop();
  await rm(s.tmp, { recursive: true, force: true });
});

const web = { container: 'IaasVMContainer;iaasvmcontainerv2;prod-rg;web-01', item: 'VM;iaasvmcontainerv2;prod-rg;web-01' };

function at(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}

test('the REST reference’s example requests, sent as documented, get the documented answers', async () => {
  s.state.reset();
  s.state.options.backupTaskMs = [200, 200];
  s.state.options.restoreTaskMs = 5000;
  const fixtures = JSON.parse(await readFile(new URL('./fixtures/rest-reference-examples.json', import.meta.url), 'utf8'));
  const arm = new ArmInspector(s);
  const values: Record<string, string> = { sub: s.state.options.subscriptionId, expiry: new Date(Date.now() + 86_400_000).toISOString() };
  const fill = (text: string) => text.replace('{V}', arm.vault).replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m);
  const schemaOf = (name: string) => (schemas as unknown as Record<string, { safeParse: (v: unknown) => { success: boolean; error?: { message: string } } }>)[name]!;
  try {
    for (const ex of fixtures.examples as Array<Record<string, any>>) {
      const body = ex.body === undefined ? undefined : JSON.parse(fill(JSON.stringify(ex.body)));
      if (ex.requestSchema) assert.ok(schemaOf(ex.requestSchema).safeParse(body).success, `${ex.operationId}: the documented request passes our ${ex.requestSchema} schema`);
      if (ex.waitForJob) {
        for (let i = 0; i < 50 && (await arm.get(fill(ex.path))).properties.status === 'InProgress'; i++) await new Promise((r) => setTimeout(r, 100));
      }
      const res = await arm.raw(ex.method, fill(ex.path), body);
      assert.equal(res.status, ex.status, `${ex.operationId}: ${JSON.stringify(res.json)}`);
      for (const h of ex.headers ?? []) assert.ok(res.headers[h], `${ex.operationId}: header ${h}`);
      for (const h of ['location', 'azure-asyncoperation'] as const) {
        if (res.headers[h]) assert.match(String(res.headers[h]), new RegExp(`^${s.simulator.url}/subscriptions/.*api-version=2023-06-01`), `${ex.operationId}: ${h} is absolute`);
      }
      if (ex.response) {
        const parsed = schemaOf(ex.response).safeParse(res.json);
        assert.ok(parsed.success, `${ex.operationId}: the answer matches ${ex.response}: ${parsed.error?.message}`);
      }
      let final: unknown = res.json;
      if (ex.follow) {
        const url = String(res.headers[ex.follow]);
        for (let i = 0; i < 100; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const poll = await arm.raw('GET', url);
          if (ex.follow === 'azure-asyncoperation') {
            assert.equal(poll.status, 200);
            assert.ok(schemas.operationStatus.safeParse(poll.json).success, `${ex.operationId}: operation status matches the schema`);
            if (poll.json.status === 'InProgress') continue;
            assert.equal(poll.json.status, 'Succeeded', `${ex.operationId}: ${JSON.stringify(poll.json)}`);
          } else {
            if (poll.status === 202) continue;
            assert.ok([200, 204].includes(poll.status));
          }
          final = poll.json;
          break;
        }
        if (ex.expectOperationProperties) assert.equal(at(final, 'properties.objectType'), ex.expectOperationProperties);
      }
      for (const [key, path] of Object.entries((ex.capture ?? {}) as Record<string, string>)) {
        values[key] = String(at(final, path));
        assert.ok(values[key] && values[key] !== 'undefined', `${ex.operationId}: captured ${key}`);
      }
    }
    assert.equal(s.state.activeIlrSessions().length, 0, 'the revoke example closed the session the provision example opened');
  } finally {
    await arm.close();
    s.state.options.backupTaskMs = [600, 900];
    s.state.options.restoreTaskMs = 900;
  }
});

test('requests that break the reference’s schema are refused with an ARM error', async () => {
  const arm = new ArmInspector(s);
  try {
    const res = await arm.raw('POST', `${arm.vault}/backupFabrics/Azure/protectionContainers/${web.container}/protectedItems/${web.item}/backup`, {
      properties: { objectType: 'AzureFileShareBackupRequest' },
    });
    assert.ok([400, 404].includes(res.status));
    assert.ok(schemas.armErrorBody.safeParse(res.json).success);
    const noVersion = await arm.raw('GET', `${s.simulator.url}${arm.vault}/backupPolicies`);
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.json.error.code, 'MissingApiVersionParameter');
  } finally {
    await arm.close();
  }
});

test('one token serves many calls and is renewed before it expires', async () => {
  s.state.reset();
  s.state.options.tokenTtlSeconds = 2; // renewed after half its life: 1 s
  const fresh = new AzureClient(azureProfile.parse(s.profile), { TEST_AZURE_CLIENT_SECRET: AZURE_TEST_SECRET });
  try {
    s.simulator.calls.clear();
    await Promise.all([fresh.listPolicies(), fresh.listPolicies(), fresh.listProtectedItems()]);
    await fresh.getPolicy('DefaultPolicy');
    assert.equal(fresh.tokensFetched, 1);
    await new Promise((r) => setTimeout(r, 1200));
    await fresh.listPolicies();
    assert.equal(fresh.tokensFetched, 2, 'a new token before the old one ran out');
    assert.equal(s.simulator.calls.all().filter((c) => c.status === 401).length, 0, 'no call was refused for an expired token');
    assert.equal(s.simulator.calls.matching('POST', /\/oauth2\/v2\.0\/token$/).length, 2);
  } finally {
    s.state.options.tokenTtlSeconds = 3600;
    await fresh.close();
  }
});

test('a token the service no longer accepts is replaced once, transparently', async () => {
  await client.listPolicies(); // the client holds a token now
  s.state.tokens.clear(); // the service forgot every token (e.g. it was revoked)
  s.simulator.calls.clear();
  assert.ok((await client.listPolicies()).length >= 1);
  assert.deepEqual(
    s.simulator.calls.all().map((c) => `${c.method} ${c.status}`),
    ['GET 401', 'POST 200', 'GET 200'],
    'refused, new token, same call again',
  );
});

/** Following an operation is an activity's job (it heartbeats): done here in a mock activity. */
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);

test('the tracker follows Azure-AsyncOperation when given, else Location, sleeping for Retry-After', async () => {
  s.state.reset();
  s.state.options.retryAfterSeconds = 1;
  s.state.options.asyncMs = 2200;
  try {
    await inActivity(() => client.refreshContainers(followOperation(client, { pollMs: 50 })));
    const policy = await client.getPolicy('DefaultPolicy');
    s.simulator.calls.clear();
    const viaStatus = await inActivity(() =>
      client.enableProtection(
        web.container,
        web.item,
        `/subscriptions/${s.state.options.subscriptionId}/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-01`,
        policy.id,
        followOperation(client, { pollMs: 50 }),
      ),
    );
    assert.equal(viaStatus.via, 'Azure-AsyncOperation');
    const polls = s.simulator.calls.matching('GET', /\/operationsStatus\//);
    assert.ok(polls.length >= 2 && polls.length <= 4, `polled ${polls.length} times in ~2.2 s with Retry-After 1`);
    for (let i = 1; i < polls.length; i++) {
      const gap = polls[i]!.startedAt - polls[i - 1]!.startedAt;
      assert.ok(gap >= 950, `polls ${gap} ms apart although Retry-After said 1 s`);
    }

    s.state.options.asyncHeaders = 'location-only';
    s.simulator.calls.clear();
    const viaLocation = await inActivity(() => client.triggerBackup(web.container, web.item, undefined, followOperation(client, { pollMs: 50 })));
    assert.equal(viaLocation.via, 'Location');
    assert.equal(viaLocation.operation, undefined, 'Location answers carry no operation status');
    assert.equal(s.simulator.calls.matching('GET', /\/operationsStatus\//).length, 0);
    assert.ok(s.simulator.calls.matching('GET', /\/operationResults\//).length >= 2);
  } finally {
    s.state.options.asyncHeaders = 'both';
    s.state.options.retryAfterSeconds = 0;
    s.state.options.asyncMs = 300;
  }
});

test('ARM error bodies appear in the failure with their code', async () => {
  const err = await client.getPolicy('NoSuchPolicy').then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof VendorError);
  assert.equal(err.status, 404);
  assert.equal(err.code, 'BMSUserErrorPolicyNotExist');
  assert.equal(err.retryable, false);
  assert.match(err.message, /^Azure GET \/subscriptions\/.*\/backupPolicies\/NoSuchPolicy → HTTP 404: BMSUserErrorPolicyNotExist: Policy 'NoSuchPolicy' does not exist/);
  s.simulator.faults.add({ method: 'GET', path: '*/backupPolicies', action: { kind: 'status', status: 429, message: 'Too many requests', retryAfterSeconds: 7 } });
  const throttled = await client.listPolicies().then(
    () => assert.fail('should fail'),
    (e: unknown) => e,
  );
  assert.ok(throttled instanceof VendorError);
  assert.equal(throttled.retryable, true);
  assert.equal(throttled.retryAfterMs, 7000, 'Retry-After becomes the next retry delay');
  assert.equal(throttled.code, 'TooManyRequests');
});
