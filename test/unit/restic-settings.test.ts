/** The copy worker's repository setting from its environment, and how a restic repository is shown in messages. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { copySettingsFromEnv } from '../../activities/copy/activities';
import { shownRepository } from '../../activities/copy/restic/restic-cli';

test('the directory repository is the default; restic needs its repository, and takes the password from the environment or a file', () => {
  assert.equal(copySettingsFromEnv({}).restic, undefined);
  assert.equal(copySettingsFromEnv({ BACKUP_REPOSITORY_KIND: 'directory', RESTIC_REPOSITORY: '/r' }).restic, undefined);
  assert.deepEqual(copySettingsFromEnv({ BACKUP_REPOSITORY_KIND: 'restic', RESTIC_REPOSITORY: '/srv/restic', RESTIC_PASSWORD: 'pw-123456' }).restic, {
    repository: '/srv/restic',
    password: 'pw-123456',
  });
  assert.deepEqual(copySettingsFromEnv({ BACKUP_REPOSITORY_KIND: 'restic', RESTIC_REPOSITORY: 's3:host/b', RESTIC_PASSWORD_FILE: '/etc/restic.pw', RESTIC_PATH: '/opt/restic' }).restic, {
    repository: 's3:host/b',
    passwordFile: '/etc/restic.pw',
    binary: '/opt/restic',
  });
  assert.throws(() => copySettingsFromEnv({ BACKUP_REPOSITORY_KIND: 'restic' }), /needs RESTIC_REPOSITORY/);
  assert.throws(() => copySettingsFromEnv({ BACKUP_REPOSITORY_KIND: 'borg' }), /use directory or restic/);
});

test('a repository URL is shown without its password', () => {
  assert.equal(shownRepository('rest:https://backup:s3cr3t-pw@host:8000/repo'), 'rest:https://backup:***@host:8000/repo');
  assert.equal(shownRepository('/srv/restic'), '/srv/restic');
});

test('RESTIC_COMPRESSION is off, auto or max, passed to restic as --compression; anything else stops the worker at start', () => {
  const restic = (extra: Record<string, string>) => copySettingsFromEnv({ BACKUP_REPOSITORY_KIND: 'restic', RESTIC_REPOSITORY: '/srv/restic', RESTIC_PASSWORD: 'pw-123456', ...extra }).restic;
  assert.equal(restic({})?.compression, undefined);
  assert.equal(restic({ RESTIC_COMPRESSION: '' })?.compression, undefined);
  for (const mode of ['off', 'auto', 'max']) assert.equal(restic({ RESTIC_COMPRESSION: mode })?.compression, mode);
  assert.throws(() => restic({ RESTIC_COMPRESSION: 'fast' }), /RESTIC_COMPRESSION=fast: use off, auto, max/);
});
