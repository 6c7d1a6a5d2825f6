/** Custom search attributes: registered on the server by `npm start` and the tests, set by every run. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BackupProvider = defineSearchAttributeKey('BackupProvider', SearchAttributeType.KEYWORD);
export const BackupVmId = defineSearchAttributeKey('BackupVmId', SearchAttributeType.KEYWORD);
export const BackupStep = defineSearchAttributeKey('BackupStep', SearchAttributeType.KEYWORD);
export const BackupOutcome = defineSearchAttributeKey('BackupOutcome', SearchAttributeType.KEYWORD);

export const allSearchAttributes = [BackupProvider, BackupVmId, BackupStep, BackupOutcome];

/** As `temporal server start-dev --search-attribute` wants them. */
export function searchAttributeArgs(): string[] {
  return allSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}
