/**
 * Codec keys from the environment, the same way for workers, clients and the codec server:
 * BACKUP_CODEC_KEYS (JSON text) or BACKUP_CODEC_KEYS_FILE (a path), holding
 * { "activeKeyId": "2026-11", "keys": { "2026-11": "<32 bytes, base64>", "2026-05": "…" } }.
 * With neither set, payloads are not encrypted (and the worker says so at start).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataDir } from '../config/data-dir';
import type { DataConverter } from '@temporalio/common';
import { z } from 'zod';
import { formatZodIssues } from '../schema';
import { AesGcmCodec, type CodecKeys } from './aes-gcm-codec';

const keysFile = z.object({
  activeKeyId: z.string().min(1),
  keys: z.record(z.string().min(1), z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a 32-byte key, base64 (44 characters)')),
});

export function parseCodecKeys(text: string, source: string): CodecKeys {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not JSON: ${(err as Error).message}`);
  }
  const parsed = keysFile.safeParse(raw);
  if (!parsed.success) throw new Error(`${source} is invalid: ${formatZodIssues(parsed.error)}`);
  return { activeKeyId: parsed.data.activeKeyId, keys: Object.fromEntries(Object.entries(parsed.data.keys).map(([id, k]) => [id, Buffer.from(k, 'base64')])) };
}

/** Where `npm start` keeps its local key, and where a client on the same checkout finds it. */
export function localKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dataDir(env), 'codec-keys.json');
}

export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKeys | undefined {
  if (env.BACKUP_CODEC_KEYS) return parseCodecKeys(env.BACKUP_CODEC_KEYS, 'BACKUP_CODEC_KEYS');
  if (env.BACKUP_CODEC_KEYS_FILE) return parseCodecKeys(readFileSync(env.BACKUP_CODEC_KEYS_FILE, 'utf8'), env.BACKUP_CODEC_KEYS_FILE);
  // A checkout that ran `npm start` has a local key: the CLI in another shell finds it there.
  const local = localKeyFile(env);
  if (env.BACKUP_CODEC_LOCAL_KEY !== 'off' && existsSync(local)) return parseCodecKeys(readFileSync(local, 'utf8'), local);
  return undefined;
}

export function encryptionNotice(env: NodeJS.ProcessEnv = process.env): string {
  const keys = codecKeysFromEnv(env);
  return keys
    ? `payloads encrypted with AES-256-GCM (active key "${keys.activeKeyId}", ${Object.keys(keys.keys).length} key(s) for decryption)`
    : 'WARNING: payloads are NOT encrypted: set BACKUP_CODEC_KEYS or BACKUP_CODEC_KEYS_FILE (see README, "Payload encryption")';
}

/** The failure converter the workers, the clients and the workflow bundle share: failure messages and stacks go into a payload. */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The data converter every worker and client uses: encrypting when keys are configured, failures'
 * messages and stack traces included (they travel as an encoded payload, see failure-converter.cjs).
 */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const keys = codecKeysFromEnv(env);
  return { failureConverterPath, ...(keys ? { payloadCodecs: [new AesGcmCodec(keys)] } : {}) };
}

export function generateKeyFile(path: string, keyId = new Date().toISOString().slice(0, 7)): CodecKeys {
  const key = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ activeKeyId: keyId, keys: { [keyId]: key.toString('base64') } }, null, 2), { mode: 0o600 });
  return { activeKeyId: keyId, keys: { [keyId]: key } };
}

/** For `npm start`: a local key made once and kept in .data/, so the demo encrypts like production. */
export function ensureLocalKeyFile(path: string): void {
  if (!existsSync(path)) generateKeyFile(path, 'local-dev');
}
