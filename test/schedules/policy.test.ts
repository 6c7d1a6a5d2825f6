import { test } from 'vitest';
import assert from 'node:assert/strict';
import { InvalidInputError } from '../../client/errors';
import { parsePolicy, policyHash } from '../../client/schedules/policy';

const good = `
schedules:
  - id: nightly-web-01
    workflow: ovirtSnapshotBackup
    input:
      endpoint: ovirt-sim
      vmId: 6f2a0d3e-5b1c-4c8e-9a10-00000000a001
      proxyVmId: 6f2a0d3e-5b1c-4c8e-9a10-00000000b001
    cron: "0 2 * * *"
    timezone: Europe/Berlin
    jitter: 10m
    retention: { keep: 7 }
`;

test('a valid YAML policy parses with defaults filled in', () => {
  const [entry] = parsePolicy(good, 'fleet.yaml');
  assert.equal(entry!.id, 'nightly-web-01');
  assert.equal(entry!.overlap, 'skip', 'overlap defaults to skip');
  assert.equal(entry!.catchupWindow, '1h');
  assert.equal(entry!.pauseOnFailure, false);
  assert.deepEqual(entry!.retention, { keep: 7 });
});

test('JSON policies are read the same way', () => {
  const json = JSON.stringify({ schedules: [{ id: 'hourly', workflow: 'ovirtSnapshotBackup', every: '1h', input: { endpoint: 'e', vmId: 'v', proxyVmId: 'p' } }] }, null, 2);
  assert.equal(parsePolicy(json, 'p.json')[0]!.every, '1h');
});

test('errors name the file, the line and the field, for every problem at once', () => {
  const bad = `schedules:
  - id: nightly
    workflow: ovirtSnapshotBackup
    input:
      endpoint: ovirt-sim
      vmId: 42
    every: 5 minutes
    overlap: sometimes
    retention: { keep: 0 }
`;
  assert.throws(
    () => parsePolicy(bad, 'fleet.yaml'),
    (err: InvalidInputError) => {
      const text = err.problems.join('\n');
      assert.match(text, /fleet\.yaml:6: schedules\.0\.input\.vmId: vmId must be a string, not number/);
      // A missing field points at the map it is missing from.
      assert.match(text, /fleet\.yaml:5: schedules\.0\.input\.proxyVmId: proxyVmId is required/);
      assert.match(text, /fleet\.yaml:7: schedules\.0\.every: a duration like/);
      assert.match(text, /fleet\.yaml:8: schedules\.0\.overlap: /);
      assert.match(text, /fleet\.yaml:9: schedules\.0\.retention\.keep: keep at least 1/);
      assert.equal(err.exitCode, 2);
      return true;
    },
  );
});

test('cron and every are mutually exclusive, ids unique, YAML syntax errors carry a line', () => {
  const both = `schedules:\n  - { id: a, workflow: ovirtSnapshotBackup, cron: "* * * * *", every: 1h, input: { endpoint: e, vmId: v, proxyVmId: p } }\n  - { id: a, workflow: ovirtSnapshotBackup, every: 1h, input: { endpoint: e, vmId: v, proxyVmId: p } }\n`;
  assert.throws(() => parsePolicy(both, 'x.yaml'), /x\.yaml:2: schedules\.0\.cron: give exactly one of "cron" and "every"[\s\S]*x\.yaml:3: schedules\.1\.id: duplicate id "a"/);
  assert.throws(() => parsePolicy('schedules:\n  - id: [oops\n', 'y.yaml'), /y\.yaml:\d+: /);
});

test('a cron that cannot be parsed names file, line and field, reported together with the other problems', () => {
  const bad = `schedules:
  - id: nightly
    workflow: ovirtSnapshotBackup
    cron: "0 25 * *"
    input: { endpoint: e, vmId: v, proxyVmId: p }
  - id: weekly
    workflow: ovirtSnapshotBackup
    cron: "0 2 * * FUNDAY"
    input: { endpoint: e, vmId: v }
  - id: good
    workflow: ovirtSnapshotBackup
    cron: "*/15 0-6,22 1 jan-mar mon-fri"
    input: { endpoint: e, vmId: v, proxyVmId: p }
`;
  assert.throws(
    () => parsePolicy(bad, 'p.yaml'),
    (err: InvalidInputError) => {
      assert.deepEqual(err.problems, [
        'p.yaml:4: schedules.0.cron: "0 25 * *" has 4 fields; a cron has 5: minute hour day-of-month month day-of-week (e.g. "0 2 * * *")',
        'p.yaml:8: schedules.1.cron: field 5 (day of week) "FUNDAY": "FUNDAY" is not a day of week',
        'p.yaml:9: schedules.1.input.proxyVmId: proxyVmId is required',
      ]);
      return true;
    },
  );
  assert.throws(() => parsePolicy(bad.replace('"0 25 * *"', '"0 25 * * *"'), 'p.yaml'), /p\.yaml:4: schedules\.0\.cron: field 2 \(hour\) "25": 25 is out of range 0-23/);
  assert.throws(() => parsePolicy(bad.replace('"0 25 * *"', '"@nightly"'), 'p.yaml'), /p\.yaml:4: schedules\.0\.cron: "@nightly" is not a cron shorthand/);
});

test('the fingerprint changes with the policy, not with key order', () => {
  const [a] = parsePolicy(good, 'a');
  const [b] = parsePolicy(good.replace('timezone: Europe/Berlin\n    jitter: 10m', 'jitter: 10m\n    timezone: Europe/Berlin'), 'b');
  const [c] = parsePolicy(good.replace('keep: 7', 'keep: 8'), 'c');
  assert.equal(policyHash(a!), policyHash(b!));
  assert.notEqual(policyHash(a!), policyHash(c!));
});

test('repositoryRetention takes keep rules for the repository, beside retention for engine snapshots; no rule, a bad count or a workflow without a repository are named', () => {
  const [entry] = parsePolicy(`${good}    repositoryRetention: { keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }\n`, 'fleet.yaml');
  assert.deepEqual(entry!.repositoryRetention, { keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 });
  assert.deepEqual(entry!.retention, { keep: 7 });
  const problems = (text: string) => {
    try {
      parsePolicy(text, 'p.yaml');
      return '';
    } catch (err) {
      return (err as InvalidInputError).problems.join('\n');
    }
  };
  assert.match(problems(`${good}    repositoryRetention: { keepDaily: 0 }\n`), /p\.yaml:13: schedules\.0\.repositoryRetention\.keepLast: give at least one keep rule above 0/);
  assert.match(problems(`${good}    repositoryRetention: { keepDaily: 1.5, keepForever: 1 }\n`), /keepDaily: keepDaily must be a whole number[\s\S]*keepForever/);
  const onapp = `schedules:\n  - id: o\n    workflow: onappBackup\n    input: { endpoint: onapp-sim, virtualServerId: vs-1 }\n    every: 1h\n    repositoryRetention: { keepLast: 2 }\n`;
  assert.match(problems(onapp), /p\.yaml:6: schedules\.0\.repositoryRetention: onappBackup keeps no backups in a repository/);
});
