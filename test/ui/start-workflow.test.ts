/**
 * The Web UI, as a backup admin uses it: `npm start`, open the bundled Temporal Web UI in a real
 * (headless) Chromium, fill *Start Workflow* with the example input, submit, follow the run to its
 * page and wait until the UI shows it Completed. A full-page screenshot of the finished run is kept
 * in .artifacts/ui/ovirt-backup-completed.png. The Temporal client and the simulated engine's own
 * API then confirm what the page showed: the run completed with a manifest, and nothing was left
 * behind at the vendor. Skips (with the reason) only where /usr/bin/chromium is missing.
 */
import { afterAll, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection, type WorkflowFailedError } from '@temporalio/client';
import { dataConverterFromEnv } from '../../lib/codec/keys';
import type { Browser } from 'playwright-core';
import { projectRoot } from '../../lib/temporal/cli-path';
import { asArray, parseXml } from '../../lib/xml';
import { OVIRT_DEMO } from '../../simulators/ovirt';
import { ovirtDemo } from '../../simulators/ovirt/demo';
import { SIMULATOR_PASSWORDS } from '../../simulators/serve';
import { chromiumUnavailable, launchChromium, saveScreenshot } from '../helpers/browser';
import { startNpmStack, type NpmStartStack } from '../helpers/npm-start-stack';

const TASK_QUEUE = 'backup-orchestrator';
const WORKFLOW_TYPE = 'ovirtSnapshotBackup';
const SCREENSHOT = 'ui/ovirt-backup-completed.png';
const skipReason = chromiumUnavailable();

let stack: NpmStartStack | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  const started = Date.now();
  if (skipReason) return;
  stack = await startNpmStack({ name: 'ui-start-workflow' });
  browser = await launchChromium();
  console.log(`stack and browser up after ${Date.now() - started} ms`);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The simulated engine as its admin sees it, through the oVirt REST API. */
async function engineGet(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${stack!.simulatorPort('ovirt')}/ovirt-engine/api${path}`, {
    headers: { accept: 'application/xml', authorization: `Basic ${Buffer.from(`admin@internal:${ovirtDemo.secrets.OVIRT_SIM_PASSWORD!}`).toString('base64')}` },
  });
  assert.equal(res.status, 200, `GET ${path}`);
  return parseXml(await res.text());
}

test('Web UI: Start Workflow with the example input runs ovirtSnapshotBackup and shows it Completed', async (t) => {
  if (skipReason) {
    console.log(`browser test skipped: ${skipReason}`);
    t.skip(skipReason);
    return;
  }
  const exampleText = await readFile(join(projectRoot, 'examples', `${WORKFLOW_TYPE}.json`), 'utf8');
  const example = JSON.parse(exampleText);
  const workflowId = `ui-ovirt-backup-${Date.now()}`;
  const t0 = Date.now();
  const mark = (what: string) => console.log(`${what} after ${Date.now() - t0} ms`);
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
  // Whatever goes wrong in the browser, keep a picture of the page it went wrong on.
  t.onTestFinished(async () => {
    if (!page.isClosed()) console.log(`page at failure: ${await saveScreenshot(page, 'ui/ovirt-backup-failure.png')} (${page.url()})`);
  });

  // The form, field by field, as a person fills it.
  await page.goto(`http://127.0.0.1:${stack!.ports.ui}/namespaces/default/workflows/start-workflow`);
  await page.getByTestId('workflowId').fill(workflowId);
  await page.getByTestId('taskQueue').fill(TASK_QUEUE);
  await page.getByTestId('workflowType').fill(WORKFLOW_TYPE);
  const data = page.getByRole('textbox', { name: 'Data' });
  await data.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(exampleText);
  assert.deepEqual(JSON.parse(await data.innerText()), example, 'the input editor holds the example JSON');
  await page.getByText('Task Queue is Active').waitFor(); // the UI sees the worker polling the queue
  const submit = page.getByTestId('start-workflow-button');
  await assertEventually(() => submit.isEnabled(), 'the Start Workflow button becomes enabled');
  await submit.click();
  mark('submitted');

  // The UI confirms and links to the new run; follow the link to the run's page.
  const started = page.getByRole('link', { name: 'Workflow started successfully' });
  await started.waitFor();
  await started.click();
  await page.waitForURL(new RegExp(`/namespaces/default/workflows/${workflowId}/[0-9a-f-]{36}`));
  mark('on the run page');
  const runIdInUi = new RegExp(`/workflows/${workflowId}/([0-9a-f-]{36})`).exec(page.url())![1]!;

  // The run page refreshes itself while the run is open; wait until it says Completed.
  await page.getByTestId('execution-status').getByText('Completed', { exact: true }).waitFor({ timeout: 60_000 });
  mark('Completed shown');
  await page.getByTestId('workflow-id-heading').getByText(workflowId).waitFor();
  const bodyText = await page.locator('body').innerText();
  assert.match(bodyText, new RegExp(`"workflowId": "${workflowId}"`), 'the Result panel shows the manifest');
  assert.match(bodyText, /"provider": "ovirt"/);
  for (const secret of Object.values(SIMULATOR_PASSWORDS)) assert.ok(!bodyText.includes(secret), 'no secret on the run page');
  const shot = await saveScreenshot(page, SCREENSHOT);
  console.log(`screenshot of the finished run: ${shot}`);

  // The workflow list filtered by the backup search attributes finds the run (docs/web-ui.md).
  const query = `BackupProvider="ovirt" AND BackupVmId="${example.vmId}" AND BackupOutcome="completed"`;
  await page.goto(`http://127.0.0.1:${stack!.ports.ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
  await page.getByRole('link', { name: workflowId }).first().waitFor();
  await saveScreenshot(page, 'ui/ovirt-backup-filtered-list.png');
  const noMatch = query.replace('"completed"', '"failed"');
  await page.goto(`http://127.0.0.1:${stack!.ports.ui}/namespaces/default/workflows?query=${encodeURIComponent(noMatch)}`);
  await page.getByText('No Workflows Found').waitFor();
  assert.equal(await page.getByRole('link', { name: workflowId }).count(), 0, 'the filter leaves out runs that do not match');
  await page.close();
  mark('list filters checked');

  // The server agrees: the run the UI showed completed, with a manifest of the demo VM.
  const connection = await Connection.connect({ address: `127.0.0.1:${stack!.ports.temporal}` });
  try {
    // The stack encrypts payloads with the key it keeps in its data folder.
    const dataConverter = dataConverterFromEnv({ BACKUP_DATA_DIR: stack!.dataDir });
    const handle = new Client({ connection, dataConverter }).workflow.getHandle(workflowId);
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    assert.equal(description.runId, runIdInUi, 'the page showed this very run');
    assert.equal(description.type, WORKFLOW_TYPE);
    assert.equal(description.taskQueue, TASK_QUEUE);
    const manifest = (await handle.result()) as {
      workflowId: string;
      vm: { id: string };
      proxyVm: { id: string };
      disks: Array<{ id: string; bytes: number; sha256: string; path: string }>;
    };
    assert.equal(manifest.workflowId, workflowId);
    assert.equal(manifest.vm.id, example.vmId);
    assert.equal(manifest.proxyVm.id, example.proxyVmId);
    assert.equal(manifest.disks.length, 2, 'both disks of the demo VM were backed up');
    // What the server stores is ciphertext: the UI showed the input and result above only
    // because it decoded them through the stack's codec server.
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(started?.metadata?.encoding ?? []).toString(), 'binary/encrypted', 'the UI encoded its input through the codec server');
    assert.ok(
      !Buffer.from(started?.data ?? [])
        .toString('latin1')
        .includes(example.vmId),
      'no plaintext VM id in the stored input',
    );
    for (const disk of manifest.disks) {
      assert.match(disk.sha256, /^[0-9a-f]{64}$/);
      assert.ok(disk.bytes > 0, `disk ${disk.id} has bytes`);
      assert.ok(disk.path.startsWith(join(stack!.dataDir, 'repository')), disk.path);
    }
  } finally {
    await connection.close();
  }

  mark('server checked');
  // And the engine is left as it was: only the active snapshot, only the proxy's boot disk.
  const snapshots = (await engineGet(`/vms/${OVIRT_DEMO.vmId}/snapshots`)) as { snapshots: { snapshot?: unknown } };
  assert.deepEqual(
    asArray(snapshots.snapshots.snapshot as Array<{ snapshot_type: string }>).map((s) => s.snapshot_type),
    ['active'],
  );
  const attachments = (await engineGet(`/vms/${OVIRT_DEMO.proxyVmId}/diskattachments`)) as { disk_attachments: { disk_attachment?: unknown } };
  assert.deepEqual(
    asArray(attachments.disk_attachments.disk_attachment as Array<{ disk: { '@_id': string } }>).map((a) => a.disk['@_id']),
    [OVIRT_DEMO.proxyBootDiskId],
  );
});

test('Web UI: a failed run shows its one-line reason, decoded through the codec server, though the server keeps it encrypted', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const workflowId = `ui-ovirt-failed-${Date.now()}`;
  const connection = await Connection.connect({ address: `127.0.0.1:${stack!.ports.temporal}` });
  let reason = '';
  try {
    const client = new Client({ connection, dataConverter: dataConverterFromEnv({ BACKUP_DATA_DIR: stack!.dataDir }) });
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ endpoint: 'ovirt-sim', vmId: OVIRT_DEMO.vmId, proxyVmId: '00000000-0000-0000-0000-00000000dead' }],
    });
    reason = await handle.result().then(
      () => assert.fail('the run was meant to fail'),
      (err: WorkflowFailedError) => err.cause!.message,
    );
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(!history.includes(reason.slice(0, 40)), 'the reason is not stored as text');
  } finally {
    await connection.close();
  }
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
  t.onTestFinished(async () => {
    if (!page.isClosed()) console.log(`page at failure: ${await saveScreenshot(page, 'ui/ovirt-failed-run.png')} (${page.url()})`);
  });
  await page.goto(`http://127.0.0.1:${stack!.ports.ui}/namespaces/default/workflows/${workflowId}`);
  await page.getByTestId('execution-status').getByText('Failed', { exact: true }).waitFor({ timeout: 60_000 });
  // The failure panel shows the decoded attributes as JSON (quotes escaped): look for the vendor's part.
  const vendorPart = reason.slice(reason.indexOf('failed: ') + 'failed: '.length).slice(0, 40);
  assert.ok(vendorPart.length >= 20 && !vendorPart.includes('"'), vendorPart);
  await page.getByText(vendorPart).first().waitFor();
  await saveScreenshot(page, 'ui/ovirt-failed-run.png');
  await page.close();
});

async function assertEventually(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
