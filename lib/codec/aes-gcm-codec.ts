/**
 * Payload encryption with AES-256-GCM. Every payload (workflow inputs, results, activity arguments,
 * heartbeats, failure details) leaves the worker or client encrypted; the key id travels in the
 * metadata, so keys can be rotated: new payloads use the active key, old ones decrypt with theirs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const ProtoPayload = proto.temporal.api.common.v1.Payload;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKeys {
  activeKeyId: string;
  keys: Record<string, Buffer>;
}

/**
 * What is encrypted: the whole original payload, metadata included, as the Payload protobuf (as the
 * SDK's own encryption samples do): smaller and quicker to build than JSON with base64 fields.
 * Payloads in that older JSON form still decrypt: their plaintext starts with "{", which no encoded
 * Payload does (its first byte is a field tag, 0x0a or 0x12).
 */
function serialize(payload: Payload): Uint8Array {
  return ProtoPayload.encode({ metadata: payload.metadata, data: payload.data }).finish();
}

const JSON_OPEN_BRACE = 0x7b;

function deserialize(bytes: Buffer): Payload {
  if (bytes[0] === JSON_OPEN_BRACE) return deserializeJson(bytes);
  const decoded = ProtoPayload.decode(bytes);
  return {
    metadata: Object.fromEntries(Object.entries(decoded.metadata ?? {}).map(([k, v]) => [k, plain(v)])),
    // proto3 has no "no data", only empty data: what any payload becomes on its way through the server.
    data: plain(decoded.data ?? new Uint8Array()),
  };
}

/** protobufjs hands out Buffers (views of the plaintext); a Payload holds plain Uint8Arrays. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function deserializeJson(bytes: Buffer): Payload {
  const raw = JSON.parse(bytes.toString('utf8')) as { metadata: Record<string, string>; data?: string };
  return {
    metadata: Object.fromEntries(Object.entries(raw.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
    data: raw.data === undefined ? undefined : new Uint8Array(Buffer.from(raw.data, 'base64')),
  };
}

export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly config: CodecKeys) {
    for (const [id, key] of Object.entries(config.keys)) {
      if (key.length !== 32) throw new Error(`codec key "${id}" must be 32 bytes (AES-256), got ${key.length}`);
    }
    if (!config.keys[config.activeKeyId]) throw new Error(`the active codec key "${config.activeKeyId}" is not among the configured keys`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.config.activeKeyId;
    const key = this.config.keys[keyId]!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const encrypted = Buffer.concat([cipher.update(serialize(payload)), cipher.final()]);
      return {
        metadata: {
          encoding: new Uint8Array(Buffer.from(ENCRYPTED_ENCODING)),
          [KEY_ID]: new Uint8Array(Buffer.from(keyId)),
        },
        data: new Uint8Array(Buffer.concat([iv, encrypted, cipher.getAuthTag()])),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString() : undefined;
      if (encoding !== ENCRYPTED_ENCODING) return payload;
      const keyId = payload.metadata?.[KEY_ID] ? Buffer.from(payload.metadata[KEY_ID]!).toString() : '';
      const key = this.config.keys[keyId];
      if (!key) throw new Error(`payload encrypted with key "${keyId}", which this process does not have (configured: ${Object.keys(this.config.keys).join(', ')})`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return deserialize(plain);
    });
  }
}
