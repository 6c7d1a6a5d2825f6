/**
 * What an Altaro instruction can be: the workflow's input, the activities (paths per kind live in
 * one table, activities/altaro/instructions.ts) and the simulator all speak this vocabulary.
 */
export const ALTARO_INSTRUCTION_KINDS = ['take-backup', 'take-offsitecopy', 'restore', 'seed-to-disk', 'sandbox-restore', 'verification'] as const;
export type AltaroInstructionKind = (typeof ALTARO_INSTRUCTION_KINDS)[number];
