/** A payload read straight from the server (a history event, a heartbeat) decoded as results are: codecs last-to-first, then the converter. */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';

export async function decodePayload<T>(client: Client, payload: Payload): Promise<T> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payload;
  for (const codec of [...payloadCodecs].reverse()) decoded = (await codec.decode([decoded]))[0]!;
  return payloadConverter.fromPayload<T>(decoded);
}
