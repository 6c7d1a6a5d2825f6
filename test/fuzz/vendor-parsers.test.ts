/**
 * Bad input: every vendor client's public methods against a local server that answers
 * with fast-check–generated bodies (the valid body with one field removed/nulled/retyped, cut
 * short, random JSON, random XML, random text and bytes, vendor error bodies at error statuses,
 * and bodies cut in transit). Each call must settle with a value or a VendorError; a body that
 * does not match is a MalformedResponseError naming the field. See docs/fuzzing.md.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MockActivityEnvironment } from '@temporalio/testing';
import { MalformedResponseError } from '../../lib/errors';
import { ovirtProfile } from '../../lib/config/profiles/ovirt';
import { altaroProfile } from '../../lib/config/profiles/altaro';
import { azureProfile } from '../../lib/config/profiles/azure';
import { onappProfile } from '../../lib/config/profiles/onapp';
import { manageiqProfile } from '../../lib/config/profiles/manageiq';
import { OvirtClient } from '../../activities/ovirt/client';
import { AltaroClient } from '../../activities/altaro/client';
import { AzureClient } from '../../activities/azure/client';
import { OnappClient, type OnappFormat } from '../../activities/onapp/client';
import { ManageiqClient } from '../../activities/manageiq/client';
import { waitForTask } from '../../activities/manageiq/activities';
import { followOperation } from '../../activities/azure/follow-operation';
import { FuzzServer, SECRETS, assertNoUnhandled, bodyArb, count, countOf, installUnhandledGuard, params, report, runsFor, serialize, settle, type Answer, type Format } from './kit';
import * as samples from './vendor-samples';

installUnhandledGuard();

const RUNS = runsFor(100);
const env = { FUZZ_PASSWORD: SECRETS[0] };
const password = { env: 'FUZZ_PASSWORD' };
const timeoutMs = 3_000;

const server = new FuzzServer();
const base = await server.start();
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close().catch(() => undefined);
  await server.close();
  console.log(report('vendor parsers'));
});
beforeAll(() => assert.ok(base));

interface Target {
  name: string;
  format: Format;
  /** The valid body the call expects, and its status. */
  sample: unknown;
  okStatus: number;
  /** The vendor's error body and statuses it comes with. */
  errorSample?: unknown;
  errorStatuses?: number[];
  xmlNames?: string[];
  /** Path (query stripped) that gets the fuzzed answer once; then `fallback` (default: sample). */
  fuzz: RegExp;
  fallback?: Answer;
  routes?: Array<[RegExp, Answer]>;
  /** Replaces the body-based answers (the Azure header target), with the valid answer to check first. */
  answers?: fc.Arbitrary<Answer & { kind: string }>;
  validAnswer?: Answer;
  /** The call reads no body on success (deletes, session end): a cut body may be accepted. */
  bodyIgnored?: boolean;
  call: () => Promise<unknown>;
}

const contentType = (f: Format) => ({ 'content-type': f === 'xml' ? 'application/xml' : 'application/json' });
const answer = (doc: unknown, format: Format, status = 200, headers?: Record<string, string>): Answer => ({
  status,
  body: serialize(doc, format),
  headers: { ...contentType(format), ...headers },
});

function answersFor(t: Target): fc.Arbitrary<Answer & { kind: string }> {
  if (t.answers) return t.answers;
  const headers = contentType(t.format);
  const ok = bodyArb(t.sample, t.format, t.xmlNames).map(({ kind, body }) => ({ kind, status: t.okStatus, body, headers }));
  const arbs: Array<fc.WeightedArbitrary<Answer & { kind: string }>> = [{ weight: 8, arbitrary: ok }];
  if (t.errorSample !== undefined) {
    arbs.push({
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom(...(t.errorStatuses ?? [400, 404, 409, 500, 503])), bodyArb(t.errorSample, t.format, t.xmlNames), fc.constantFrom(undefined, '0', '1', 'soon'))
        .map(([status, { kind, body }, retryAfter]) => ({ kind: `error-${kind}`, status, body, headers: { ...headers, ...(retryAfter ? { 'retry-after': retryAfter } : {}) } })),
    });
  }
  arbs.push({ weight: 1, arbitrary: fc.constant({ kind: 'cut-in-transit', status: t.okStatus, body: serialize(t.sample, t.format), headers, cut: true }) });
  return fc.oneof(...arbs);
}

async function fuzzTarget(t: Target): Promise<void> {
  // The valid sample must parse: proves each case reaches the parser and not a routing error.
  server.use({ fuzz: t.fuzz, answer: t.validAnswer ?? answer(t.sample, t.format, t.okStatus), fallback: t.fallback ?? answer(t.sample, t.format, t.okStatus), routes: t.routes });
  const valid = await settle(`${t.name} (valid sample)`, t.call);
  assert.ok(valid.ok, `${t.name}: the valid sample was refused: ${valid.ok ? '' : valid.error.message}`);

  await fc.assert(
    fc.asyncProperty(answersFor(t), async (a) => {
      count(t.name);
      server.use({ fuzz: t.fuzz, answer: a, fallback: t.fallback ?? answer(t.sample, t.format, t.okStatus), routes: t.routes });
      const out = await settle(`${t.name} [${a.kind}, HTTP ${a.status}]`, t.call);
      if (a.kind === 'truncated' && a.status === t.okStatus && !t.bodyIgnored) {
        assert.ok(!out.ok, `${t.name}: a body cut short was accepted: ${JSON.stringify(a.body)}`);
      }
      if (!out.ok && a.kind === 'cut-in-transit') {
        assert.ok(!(out.error instanceof MalformedResponseError), `${t.name}: a dropped connection read as a malformed body: ${out.error.message}`);
      }
    }),
    params(RUNS),
  );
}

/** A target whose client is built fresh for every case (token caches would hide the fuzzed login). */
function fresh<C extends { close(): Promise<void> }>(make: () => C, use: (c: C) => Promise<unknown>): () => Promise<unknown> {
  return async () => {
    const c = make();
    try {
      return await use(c);
    } finally {
      await c.close().catch(() => undefined);
    }
  };
}
function shared<C extends { close(): Promise<void> }>(c: C): C {
  closers.push(() => c.close());
  return c;
}

// --- oVirt ---------------------------------------------------------------------------------------

const o = samples.ovirt;
const ovirtApi = `${base}/ovirt-engine/api`;
const ovirtP = (apiVersion: 'v3' | 'v4', type: 'basic' | 'sso') => ovirtProfile.parse({ vendor: 'ovirt', url: ovirtApi, apiVersion, timeoutMs, auth: { type, username: 'admin@internal', password } });
const ov4 = shared(new OvirtClient(ovirtP('v4', 'basic'), env));
const ov3 = shared(new OvirtClient(ovirtP('v3', 'basic'), env));
const ovirtBase = { format: 'xml' as const, xmlNames: o.names, okStatus: 200, errorSample: o.fault, errorStatuses: [400, 401, 404, 409, 500, 503] };

const ovirtTargets: Target[] = [
  { ...ovirtBase, name: 'ovirt getVm', sample: o.vm, fuzz: /\/vms\/vm-1$/, call: () => ov4.getVm('vm-1') },
  { ...ovirtBase, name: 'ovirt listVms', sample: o.vms, fuzz: /\/vms$/, call: () => ov4.listVms('name=web-*', 10) },
  { ...ovirtBase, name: 'ovirt getDisk', sample: o.disk, fuzz: /\/disks\/d1$/, call: () => ov4.getDisk('d1') },
  {
    ...ovirtBase,
    name: 'ovirt listVmDisks (v4 attachments)',
    sample: o.attachments,
    fuzz: /\/vms\/vm-1\/diskattachments$/,
    routes: [[/\/disks\/d\d$/, answer(o.disk, 'xml')]],
    call: () => ov4.listVmDisks('vm-1'),
  },
  { ...ovirtBase, name: 'ovirt listSnapshots', sample: o.snapshots, fuzz: /\/vms\/vm-1\/snapshots$/, call: () => ov4.listSnapshots('vm-1') },
  { ...ovirtBase, name: 'ovirt createSnapshot', sample: o.snapshot, okStatus: 201, fuzz: /\/vms\/vm-1\/snapshots$/, call: () => ov4.createSnapshot('vm-1', 'nightly', ['d1'], 'corr-1') },
  { ...ovirtBase, name: 'ovirt getSnapshot (all_content)', sample: o.snapshot, fuzz: /\/snapshots\/s1$/, call: () => ov4.getSnapshot('vm-1', 's1', { allContent: true }) },
  { ...ovirtBase, name: 'ovirt listSnapshotDisks', sample: o.disks, fuzz: /\/snapshots\/s1\/disks$/, call: () => ov4.listSnapshotDisks('vm-1', 's1') },
  { ...ovirtBase, name: 'ovirt attachSnapshotDisk (v4)', sample: o.attachment, okStatus: 201, fuzz: /\/vms\/proxy\/diskattachments$/, call: () => ov4.attachSnapshotDisk('proxy', 'd1', 's1') },
  { ...ovirtBase, name: 'ovirt listAttachments (v3 disks)', sample: o.disks, fuzz: /\/vms\/proxy\/disks$/, call: () => ov3.listAttachments('proxy') },
  { ...ovirtBase, name: 'ovirt attachSnapshotDisk (v3)', sample: o.disk, okStatus: 201, fuzz: /\/vms\/proxy\/disks$/, call: () => ov3.attachSnapshotDisk('proxy', 'd1', 's1') },
  { ...ovirtBase, name: 'ovirt detachDisk v4 (fault bodies)', bodyIgnored: true, sample: o.fault, fuzz: /\/vms\/proxy\/diskattachments\/a1$/, call: () => ov4.detachDisk('proxy', 'a1') },
  { ...ovirtBase, name: 'ovirt detachDisk v3 (fault bodies)', bodyIgnored: true, sample: o.fault, fuzz: /\/vms\/proxy\/disks\/d1$/, call: () => ov3.detachDisk('proxy', 'd1') },
  { ...ovirtBase, name: 'ovirt deleteSnapshot (fault bodies)', bodyIgnored: true, sample: o.fault, fuzz: /\/snapshots\/s1$/, call: () => ov4.deleteSnapshot('vm-1', 's1') },
  {
    name: 'ovirt SSO token',
    format: 'json',
    sample: o.ssoToken,
    okStatus: 200,
    errorSample: o.ssoError,
    errorStatuses: [400, 401, 500],
    fuzz: /\/sso\/oauth\/token$/,
    routes: [[/\/vms\/vm-1$/, answer(o.vm, 'xml')]],
    call: fresh(
      () => new OvirtClient(ovirtP('v4', 'sso'), env),
      (c) => c.getVm('vm-1'),
    ),
  },
];

// --- Altaro --------------------------------------------------------------------------------------

const al = samples.altaro;
const altaro = shared(new AltaroClient(altaroProfile.parse({ vendor: 'altaro', url: `${base}/api`, productVersion: '9.1', timeoutMs, auth: { username: 'admin', password } }), env));
const altaroRoutes: Array<[RegExp, Answer]> = [
  [/\/api\/sessions\/start$/, answer(al.session, 'json')],
  [/\/api\/sessions\/end\//, answer(al.end, 'json')],
];
const altaroBase = { format: 'json' as const, okStatus: 200, errorSample: al.failure, errorStatuses: [200, 400, 401, 500, 503], routes: altaroRoutes };
const guid = '0f6c2a3e-1b7d-4c55-9a10-000000000001';

const altaroTargets: Target[] = [
  { ...altaroBase, name: 'altaro startSession', sample: al.session, fuzz: /\/api\/sessions\/start$/, routes: [altaroRoutes[1]!], call: () => altaro.startSession() },
  { ...altaroBase, name: 'altaro listVms', sample: al.vms, fuzz: /\/api\/vms\/list\//, call: () => altaro.withSession((s) => AltaroClient.listVms(s)) },
  {
    ...altaroBase,
    name: 'altaro sendInstruction take-backup',
    sample: al.instruction,
    fuzz: /\/api\/instructions\/take-backup\//,
    call: () => altaro.withSession((s) => altaro.sendInstruction(s, 'take-backup', 'ref-1')),
  },
  {
    ...altaroBase,
    name: 'altaro sendInstruction restore (options)',
    sample: al.instruction,
    fuzz: /\/api\/instructions\/restore\//,
    call: () => altaro.withSession((s) => altaro.sendInstruction(s, 'restore', 'ref-1', { BackupLocationId: 1 })),
  },
  { ...altaroBase, name: 'altaro operationStatus', sample: al.statuses, fuzz: /\/api\/activity\/operation-status\//, call: () => altaro.withSession((s) => AltaroClient.operationStatus(s, guid)) },
  { ...altaroBase, name: 'altaro allStatuses', sample: al.statuses, fuzz: /\/api\/activity\/operation-status\/[^/]+$/, call: () => altaro.withSession((s) => AltaroClient.allStatuses(s)) },
  { ...altaroBase, name: 'altaro backup reports', sample: al.backupReports, fuzz: /\/api\/reports\/backup\//, call: () => altaro.withSession((s) => AltaroClient.reports(s, 'backup', 'ref-1')) },
  { ...altaroBase, name: 'altaro restore reports', sample: al.restoreReports, fuzz: /\/api\/reports\/restore\//, call: () => altaro.withSession((s) => AltaroClient.reports(s, 'restore', 'ref-1')) },
  { ...altaroBase, name: 'altaro abort', sample: al.end, fuzz: /\/api\/instructions\/abort-operation\//, call: () => altaro.withSession((s) => AltaroClient.abort(s, guid)) },
  { ...altaroBase, name: 'altaro end session', bodyIgnored: true, sample: al.end, fuzz: /\/api\/sessions\/end\//, routes: [altaroRoutes[0]!], call: () => altaro.withSession(async () => 'done') },
];

// --- Azure ---------------------------------------------------------------------------------------

const azureP = azureProfile.parse({
  vendor: 'azure',
  url: base,
  timeoutMs,
  subscriptionId: 'sub-1',
  resourceGroup: 'rg',
  vaultName: 'vault',
  auth: { tenantId: 'tenant', clientId: 'client', clientSecret: password, tokenUrl: `${base}/oauth2/token` },
});
const az = shared(new AzureClient(azureP, env));
const V = az.vaultPath;
const azs = samples.azure(base, V);
const azRoutes: Array<[RegExp, Answer]> = [[/\/oauth2\/token$/, answer(azs.token, 'json')]];
const azureBase = { format: 'json' as const, okStatus: 200, errorSample: azs.armError, errorStatuses: [400, 404, 409, 429, 500, 503], routes: azRoutes };
const track = followOperation(az, { pollMs: 1, timeoutMs: 10_000 });
/** Waits run in an activity (they heartbeat): a mock one here. */
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment().run(fn);
const itemPath = az.itemPath('c', 'i');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const lastPage = (doc: { value: unknown[] }): Answer => answer({ value: doc.value }, 'json');

const azureTargets: Target[] = [
  {
    ...azureBase,
    name: 'azure token',
    sample: azs.token,
    errorSample: azs.tokenError,
    errorStatuses: [400, 401, 500],
    fuzz: /\/oauth2\/token$/,
    routes: [[new RegExp(`${esc(V)}/backupPolicies/DefaultPolicy$`), answer(azs.policy, 'json')]],
    call: fresh(
      () => new AzureClient(azureP, env),
      (c) => c.getPolicy('DefaultPolicy'),
    ),
  },
  { ...azureBase, name: 'azure listPolicies (paged)', sample: azs.policies, fallback: lastPage(azs.policies), fuzz: /\/backupPolicies$/, call: () => az.listPolicies() },
  { ...azureBase, name: 'azure getPolicy', sample: azs.policy, fuzz: /\/backupPolicies\/DefaultPolicy$/, call: () => az.getPolicy('DefaultPolicy') },
  { ...azureBase, name: 'azure listProtectableItems', sample: azs.protectables, fallback: lastPage(azs.protectables), fuzz: /\/backupProtectableItems$/, call: () => az.listProtectableItems() },
  { ...azureBase, name: 'azure listProtectedItems', sample: azs.protectedItems, fallback: lastPage(azs.protectedItems), fuzz: /\/backupProtectedItems$/, call: () => az.listProtectedItems() },
  { ...azureBase, name: 'azure getProtectedItem', sample: azs.protectedItem, fuzz: /\/protectedItems\/i$/, call: () => az.getProtectedItem('c', 'i') },
  { ...azureBase, name: 'azure getJob', sample: azs.job, fuzz: /\/backupJobs\/job-1$/, call: () => az.getJob('job-1') },
  { ...azureBase, name: 'azure findJobs', sample: azs.jobs, fallback: lastPage(azs.jobs), fuzz: /\/backupJobs$/, call: () => az.findJobs('db-01', 'Backup') },
  { ...azureBase, name: 'azure listRecoveryPoints', sample: azs.recoveryPoints, fuzz: /\/recoveryPoints$/, call: () => az.listRecoveryPoints('c', 'i') },
  { ...azureBase, name: 'azure getRecoveryPoint', sample: azs.recoveryPoint, fuzz: /\/recoveryPoints\/123456$/, call: () => az.getRecoveryPoint('c', 'i', '123456') },
  { ...azureBase, name: 'azure getItemOperationStatus (ILR)', sample: azs.opIlr, fuzz: /\/operationsStatus\/op-1$/, call: () => az.getItemOperationStatus('c', 'i', 'op-1') },
  {
    ...azureBase,
    name: 'azure track Azure-AsyncOperation',
    sample: azs.opSucceeded,
    fuzz: /\/ops\/op-1$/,
    routes: [...azRoutes, [/\/backup$/, { status: 202, body: '', headers: { 'azure-asyncoperation': `${base}/ops/op-1`, location: `${base}/results/op-1`, 'retry-after': '0' } }]],
    call: () => inActivity(() => az.triggerBackup('c', 'i', undefined, track)),
  },
  {
    ...azureBase,
    name: 'azure track Location',
    bodyIgnored: true,
    sample: azs.protectedItem,
    okStatus: 200,
    errorStatuses: [202, 204, 400, 429, 500],
    fuzz: /\/results\/op-2$/,
    routes: [...azRoutes, [/\/protectedItems\/i$/, { status: 202, body: '', headers: { location: `${base}/results/op-2`, 'retry-after': '0' } }]],
    call: () => inActivity(() => az.enableProtection('c', 'i', '/subscriptions/sub-1/vm', '/policy', track)),
  },
  {
    ...azureBase,
    name: 'azure track (async headers)',
    sample: azs.opSucceeded,
    fuzz: /\/backup$/,
    fallback: answer(azs.opSucceeded, 'json'),
    routes: [...azRoutes, [/\/ops\/op-1$/, answer(azs.opSucceeded, 'json')]],
    validAnswer: { status: 202, body: '', headers: { 'azure-asyncoperation': `${base}/ops/op-1`, 'retry-after': '0' } },
    // The 202's Azure-AsyncOperation / Location headers themselves are fuzzed.
    answers: fc
      .record({
        header: fc.constantFrom('azure-asyncoperation', 'location'),
        value: fc.oneof(
          fc.constantFrom(`${base}/ops/op-1`, '/ops/op-1', 'ops/op-1', 'http://[', 'http://', '//', 'not a url', '%', `${base}/ops/op-1?x=%zz`, 'mailto:x'),
          fc.stringMatching(/^[!-~]{0,24}$/).filter((s) => !/^https?:/i.test(s) && !s.startsWith('//')),
        ),
      })
      .map(({ header, value }) => ({ kind: `202 ${header}: ${value}`, status: 202, body: '', headers: { [header]: value, 'retry-after': '0' } })),
    call: () => inActivity(() => az.triggerBackup('c', 'i', undefined, track)),
  },
  {
    ...azureBase,
    name: 'azure provisionItemLevelRecovery (ILR script in the operation)',
    sample: azs.opIlr,
    fuzz: /\/ops\/op-3$/,
    routes: [...azRoutes, [/\/provisionInstantItemRecovery$/, { status: 202, body: '', headers: { 'azure-asyncoperation': `${base}/ops/op-3`, 'retry-after': '0' } }]],
    call: () =>
      inActivity(() =>
        az.provisionItemLevelRecovery(
          'c',
          'i',
          '123456',
          { objectType: 'IaasVMILRRegistrationRequest', recoveryPointId: '123456', virtualMachineId: '/subscriptions/sub-1/vm', initiatorName: 'iqn.2016-01.com.example:fuzz' },
          track,
        ),
      ),
  },
  {
    ...azureBase,
    name: 'azure disableProtection (ARM errors)',
    bodyIgnored: true,
    sample: azs.armError,
    okStatus: 204,
    fuzz: new RegExp(`${esc(itemPath)}$`),
    call: () => inActivity(() => az.disableProtection('c', 'i', track)),
  },
];

// --- OnApp ---------------------------------------------------------------------------------------

function onappTargets(format: OnappFormat): Target[] {
  const s = samples.onapp[format];
  const client = shared(new OnappClient(onappProfile.parse({ vendor: 'onapp', url: base, format, timeoutMs, auth: { username: 'admin', password } }), env));
  const ext = `\\.${format}$`;
  const b = { format, xmlNames: samples.onapp.names, okStatus: 200, errorSample: s.errors, errorStatuses: [404, 422, 500, 503] };
  return [
    { ...b, name: `onapp/${format} getVirtualServer`, sample: s.vm, fuzz: new RegExp(`/virtual_machines/7${ext}`), call: () => client.getVirtualServer(7) },
    { ...b, name: `onapp/${format} listDisks`, sample: s.disks, fuzz: new RegExp(`/virtual_machines/7/disks${ext}`), call: () => client.listDisks(7) },
    { ...b, name: `onapp/${format} listBackups`, sample: s.backups, fuzz: new RegExp(`/virtual_machines/7/backups${ext}`), call: () => client.listBackups(7) },
    { ...b, name: `onapp/${format} listDiskBackups`, sample: s.backups, fuzz: new RegExp(`/settings/disks/11/backups${ext}`), call: () => client.listDiskBackups(11) },
    {
      ...b,
      name: `onapp/${format} takeIncrementalBackup`,
      sample: s.backup,
      okStatus: 201,
      fuzz: new RegExp(`/virtual_machines/7/backups${ext}`),
      call: () => client.takeIncrementalBackup(7, { note: 'x' }),
    },
    { ...b, name: `onapp/${format} getBackup`, sample: s.backup, fuzz: new RegExp(`/backups/1${ext}`), call: () => client.getBackup(1) },
    { ...b, name: `onapp/${format} takeDiskBackup`, sample: s.backup, okStatus: 201, fuzz: new RegExp(`/settings/disks/11/backups${ext}`), call: () => client.takeDiskBackup(11, { note: 'x' }) },
    { ...b, name: `onapp/${format} deleteBackup (error bodies)`, bodyIgnored: true, sample: s.errors, okStatus: 204, fuzz: new RegExp(`/backups/1${ext}`), call: () => client.deleteBackup(1) },
  ];
}

// --- ManageIQ ------------------------------------------------------------------------------------

const miqApi = `${base}/api`;
const mq = samples.manageiq(miqApi);
const miqP = (type: 'basic' | 'token') => manageiqProfile.parse({ vendor: 'manageiq', url: miqApi, timeoutMs, auth: { type, username: 'admin', password } });
const miq = shared(new ManageiqClient(miqP('basic'), env));
const miqBase = { format: 'json' as const, okStatus: 200, errorSample: mq.error, errorStatuses: [400, 401, 403, 404, 500, 503] };

const manageiqTargets: Target[] = [
  { ...miqBase, name: 'manageiq entryPoint', sample: mq.entry, fuzz: /\/api\/?$/, call: () => miq.entryPoint() },
  { ...miqBase, name: 'manageiq getResource', sample: mq.resource, fuzz: /\/api\/vms\/42$/, call: () => miq.getResource('vms', '42') },
  {
    ...miqBase,
    name: 'manageiq querySnapshots (paged)',
    sample: mq.page,
    fallback: answer(mq.lastPage, 'json'),
    fuzz: /\/api\/vms\/42\/snapshots$/,
    call: () => miq.querySnapshots('vms', '42', { filter: ["name='bo-*'"], sortBy: 'create_time' }),
  },
  { ...miqBase, name: 'manageiq getSnapshot', sample: mq.snapshot, fuzz: /\/api\/vms\/42\/snapshots\/1$/, call: () => miq.getSnapshot('vms', '42', '1') },
  { ...miqBase, name: 'manageiq createSnapshot', sample: mq.results, fuzz: /\/api\/vms\/42\/snapshots$/, call: () => miq.createSnapshot('vms', '42', { name: 'bo-1', description: 'd' }) },
  { ...miqBase, name: 'manageiq revertSnapshot', sample: mq.single, fuzz: /\/api\/vms\/42\/snapshots\/1$/, call: () => miq.revertSnapshot('vms', '42', '1') },
  { ...miqBase, name: 'manageiq bulkDeleteSnapshots', sample: mq.bulk, fuzz: /\/api\/instances\/42\/snapshots$/, call: () => miq.bulkDeleteSnapshots('instances', '42', ['1', '2']) },
  {
    ...miqBase,
    name: 'manageiq deleteSnapshot (error bodies)',
    bodyIgnored: true,
    sample: mq.error,
    okStatus: 204,
    fuzz: /\/api\/vms\/42\/snapshots\/1$/,
    call: () => miq.deleteSnapshot('vms', '42', '1'),
  },
  {
    ...miqBase,
    name: 'manageiq waitForTask',
    sample: mq.task,
    fuzz: /\/api\/tasks\/7$/,
    call: () => inActivity(() => waitForTask(miq, '7', { pollMs: 1, deadline: Date.now() + 10_000 })),
  },
  { ...miqBase, name: 'manageiq getTask', sample: mq.task, fuzz: /\/api\/tasks\/7$/, call: () => miq.getTask('7') },
  {
    ...miqBase,
    name: 'manageiq token login',
    sample: mq.auth,
    fuzz: /\/api\/auth$/,
    routes: [[/\/api\/vms\/42$/, answer(mq.resource, 'json')]],
    call: fresh(
      () => new ManageiqClient(miqP('token'), env),
      (c) => c.getResource('vms', '42'),
    ),
  },
];

// --- the tests -----------------------------------------------------------------------------------

const groups: Array<[string, Target[]]> = [
  ['oVirt (XML)', ovirtTargets],
  ['Altaro (JSON)', altaroTargets],
  ['Azure (JSON)', azureTargets],
  ['OnApp (JSON)', onappTargets('json')],
  ['OnApp (XML)', onappTargets('xml')],
  ['ManageIQ (JSON)', manageiqTargets],
];

for (const [vendor, targets] of groups) {
  test(`${vendor}: every client call settles with a value or a VendorError naming the field`, async (t) => {
    for (const target of targets) {
      await t.annotate(target.name);
      await (async () => {
        await fuzzTarget(target);
        assert.ok(countOf(target.name) >= RUNS, `${target.name}: only ${countOf(target.name)} cases ran`);
      })();
    }
    await assertNoUnhandled();
  });
}

// --- regressions: crashes the fuzz cases found, kept as plain tests -------------------------------

test('regression: an Azure 202 whose Azure-AsyncOperation / Location header is no URL fails as a VendorError; a relative one is followed', async () => {
  const routes: Array<[RegExp, Answer]> = [...azRoutes, [/\/ops\/op-1$/, answer(azs.opSucceeded, 'json')]];
  for (const [header, value] of [
    ['azure-asyncoperation', 'http://['],
    ['location', 'https://a b'],
  ] as const) {
    server.use({ fuzz: /\/backup$/, answer: { status: 202, body: '', headers: { [header]: value } }, fallback: { status: 500, body: '' }, routes });
    const out = await settle(`202 ${header}: ${value}`, () => inActivity(() => az.triggerBackup('c', 'i', undefined, track)));
    assert.ok(!out.ok, 'a header that is no URL cannot be followed');
    assert.equal(out.error.retryable, false);
    assert.match(out.error.message, /header is not a URL/);
  }
  server.use({ fuzz: /\/backup$/, answer: { status: 202, body: '', headers: { 'azure-asyncoperation': '/ops/op-1', 'retry-after': '0' } }, fallback: { status: 500, body: '' }, routes });
  const relative = await settle('202 with a relative Azure-AsyncOperation', () => inActivity(() => az.triggerBackup('c', 'i', undefined, track)));
  assert.ok(relative.ok, relative.ok ? '' : relative.error.message);
  assert.equal((relative.value as { operation?: { status: string } }).operation?.status, 'Succeeded');
});

test('regression: a paging link that is no URL is a malformed body naming the field (Azure nextLink, ManageIQ links.next)', async () => {
  for (const bad of ['http://[', 'https://a b']) {
    server.use({ fuzz: /\/backupPolicies$/, answer: answer({ ...azs.policies, nextLink: bad }, 'json'), fallback: lastPage(azs.policies), routes: azRoutes });
    const azureOut = await settle(`azure nextLink ${bad}`, () => az.listPolicies());
    assert.ok(!azureOut.ok && azureOut.error instanceof MalformedResponseError, azureOut.ok ? 'accepted' : azureOut.error.message);
    assert.match(azureOut.error.vendorMessage, /nextLink/);

    server.use({ fuzz: /\/api\/vms\/42\/snapshots$/, answer: answer({ ...mq.page, links: { ...mq.page.links, next: bad } }, 'json'), fallback: answer(mq.lastPage, 'json') });
    const miqOut = await settle(`manageiq links.next ${bad}`, () => miq.querySnapshots('vms', '42'));
    assert.ok(!miqOut.ok && miqOut.error instanceof MalformedResponseError, miqOut.ok ? 'accepted' : miqOut.error.message);
    assert.match(miqOut.error.vendorMessage, /links\.next/);
  }
  await assertNoUnhandled();
});

test('regression: an Altaro /sessions/start reply cut after the token does not put the token in the error', async () => {
  const full = serialize(al.session, 'json');
  server.use({ fuzz: /\/api\/sessions\/start$/, answer: { status: 200, body: full.slice(0, full.indexOf(al.session.Data) + al.session.Data.length + 1) }, fallback: answer(al.session, 'json') });
  const out = await settle('cut /sessions/start', () => altaro.startSession());
  assert.ok(!out.ok && out.error instanceof MalformedResponseError, out.ok ? 'accepted' : out.error.message);
  assert.match(out.error.vendorMessage, /not JSON/);
  assert.ok(!out.error.message.includes(al.session.Data));
  await assertNoUnhandled();
});
