/**
 * The compose stack's codec server (profile `codec`): lets the Temporal UI show encrypted payloads.
 * Keys from BACKUP_CODEC_KEYS / BACKUP_CODEC_KEYS_FILE (the workers' own, lib/codec/keys.ts);
 * browsers allowed by CODEC_ALLOWED_ORIGINS. Never open: every request needs a bearer token
 * (CODEC_SERVER_TOKEN / CODEC_SERVER_TOKEN_FILE) or the Web UI's forwarded access token checked
 * as a JWT (CODEC_SERVER_JWKS_URL or CODEC_SERVER_JWT_PUBLIC_KEY_FILE, CODEC_SERVER_JWT_AUDIENCE,
 * CODEC_SERVER_JWT_ISSUER); with none configured it does not start.
 */
import { AesGcmCodec } from '../lib/codec/aes-gcm-codec';
import { codecAuthFromEnv, CodecAuthConfigError, type CodecAuthOptions } from '../lib/codec/codec-auth';
import { CodecServer } from '../lib/codec/codec-server';
import { codecKeysFromEnv } from '../lib/codec/keys';

const keys = codecKeysFromEnv();
if (!keys) {
  console.error("codec server: set BACKUP_CODEC_KEYS or BACKUP_CODEC_KEYS_FILE: the codec server decodes with the workers' keys");
  process.exit(2);
}
let auth: CodecAuthOptions;
try {
  auth = codecAuthFromEnv();
} catch (err) {
  if (!(err instanceof CodecAuthConfigError)) throw err;
  console.error(`codec server: not started: ${err.message}`);
  process.exit(2);
}
const server = new CodecServer({
  codec: new AesGcmCodec(keys),
  allowedOrigins: (process.env.CODEC_ALLOWED_ORIGINS ?? 'http://localhost:8080')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean),
  auth,
});
const url = await server.start(Number(process.env.CODEC_SERVER_PORT ?? 8234), process.env.CODEC_SERVER_HOST ?? '0.0.0.0');
console.log(`codec server on ${url}; callers need ${server.describeAuth()}`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
// A signal listener cannot be awaited; stop() ends the process itself.
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
