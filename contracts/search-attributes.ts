/**
 * The custom search attributes every run sets: the filters of the Web UI, `backupctl list` and the
 * reaper. The server must know them (lib/temporal/search-attributes.ts registers them).
 */
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

type KeywordKey = SearchAttributeKey<typeof SearchAttributeType.KEYWORD>;

/** What `defineSearchAttributeKey(name, SearchAttributeType.KEYWORD)` returns, without loading the SDK. */
const keyword = (name: string): KeywordKey => ({ name, type: 'KEYWORD' });

export const BackupProvider = keyword('BackupProvider');
export const BackupVmId = keyword('BackupVmId');
export const BackupStep = keyword('BackupStep');
export const BackupOutcome = keyword('BackupOutcome');

export const allSearchAttributes = [BackupProvider, BackupVmId, BackupStep, BackupOutcome];
