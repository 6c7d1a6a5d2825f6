/**
 * The compose stack's codec server (profile `codec`): lets the Temporal UI show encrypted payloads.
 * Keys from BACKUP_CODEC_KEYS / BACKUP_CODEC_KEYS_FILE (the workers' own, lib/codec/keys.ts);
 * browsers allowed by CODEC_ALLOWED_ORIGINS; CODEC_SERVER_TOKEN, when set, is required as a bearer.
 */
import { AesGcmCodec } from '../lib/codec/aes-gcm-codec';
import { CodecServer } from '../lib/codec/codec-server';
import { codecKeysFromEnv } from '../lib/codec/keys';

const keys = codecKeysFromEnv();
if (!keys) {
  console.error("set BACKUP_CODEC_KEYS or BACKUP_CODEC_KEYS_FILE: the codec server decodes with the workers' keys");
  process.exit(2);
}
const server = new CodecServer({
  codec: new AesGcmCodec(keys),
  allowedOrigins: (process.env.CODEC_ALLOWED_ORIGINS ?? 'http://localhost:8080')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean),
  token: process.env.CODEC_SERVER_TOKEN || undefined,
});
const url = await server.start(Number(process.env.CODEC_SERVER_PORT ?? 8234), '0.0.0.0');
console.log(`codec server on ${url}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
// A signal listener cannot be awaited; stop() ends the process itself.
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
