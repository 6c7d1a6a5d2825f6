/**
 * Appends a drill's, check's or restore's verdict to the backup's manifest, written atomically. The
 * read-modify-write of one manifest is serialised in this worker, the only writer of its repository.
 */
import { ErrorTypes, nonRetryable } from '../../lib/errors';
import type { CopySettings } from './copy-disk';
import { MANIFEST_FILE, readManifest } from './backup-store';
import { writeRepositoryFile } from './repository';
import type { Verification } from './restore-types';
import { serialised } from './serialised';

export async function recordVerification(settings: CopySettings, input: { dir: string; verification: Verification }): Promise<Verification[]> {
  return serialised(`${settings.repositoryRoot}\0${input.dir}`, async () => {
    const manifest = await readManifest(settings.repositoryRoot, input.dir);
    if (!manifest) throw nonRetryable(`unknown backup ${input.dir}: no manifest.json there`, ErrorTypes.invalidInput);
    const previous = manifest.verifications ?? [];
    // A retried attempt whose write landed before its reply was lost does not record twice.
    const already = previous.some((v) => v.workflowId === input.verification.workflowId && v.at === input.verification.at && v.by === input.verification.by);
    const verifications = already ? previous : [...previous, input.verification];
    if (!already) await writeRepositoryFile(settings.repositoryRoot, input.dir, MANIFEST_FILE, JSON.stringify({ ...manifest, verifications }, null, 2));
    return verifications;
  });
}
