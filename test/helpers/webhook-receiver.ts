/**
 * A local HTTP receiver standing in for an alert webhook (Slack, a chat bridge, an incident tool):
 * records every POST (headers and parsed body) under a secret-looking path, and answers as told:
 * 200, another status, or by dropping the connection once the body is read (a reply lost).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

export type Answer = { status: number } | 'drop';

export interface WebhookReceiver {
  /** The webhook URL, whose path is its key: a secret. */
  url: string;
  received: ReceivedAlert[];
  /** Answers for the next requests, in order; 200 once they run out. */
  answers: Answer[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedAlert[] = [];
  const answers: Answer[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text || 'null') });
      const answer = answers.shift() ?? { status: 200 };
      if (answer === 'drop') return void req.socket.destroy();
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.status < 300 ? 'ok' : `refused (${answer.status})`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const key = `T0${Math.random().toString(36).slice(2, 10)}/B0${Math.random().toString(36).slice(2, 10)}`;
  return {
    url: `http://127.0.0.1:${port}/services/${key}`,
    received,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
