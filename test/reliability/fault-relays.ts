import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { forwardPost } from '../support/http-forward.js';

export type DynamoMode = 'pass' | 'throttle' | 'unavailable';

export interface DynamoFaultRelay {
  endpoint: string;
  setMode(mode: DynamoMode): void;
  /** BatchWriteItem calls refused with ProvisionedThroughputExceededException, and requests dropped. */
  injected(): { throttled: number; dropped: number };
  close(): Promise<void>;
}

/**
 * An HTTP relay in front of a DynamoDB endpoint: `throttle` answers every BatchWriteItem with
 * ProvisionedThroughputExceededException (reads pass), `unavailable` drops every request's socket.
 */
export async function startDynamoFaultRelay(target: string): Promise<DynamoFaultRelay> {
  const upstream = new URL(target);
  let mode: DynamoMode = 'pass';
  let throttled = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const forward = (body: string, headers: IncomingHttpHeaders) => forwardPost(upstream, body, headers);
  const server: Server = createServer((incoming, outgoing) => {
    let body = '';
    incoming.on('data', (chunk) => (body += chunk));
    incoming.on('end', async () => {
      const reply = (status: number, text: string) => outgoing.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(text);
      if (mode === 'unavailable') {
        dropped += 1;
        return incoming.socket.destroy();
      }
      if (mode === 'throttle' && String(incoming.headers['x-amz-target']).endsWith('BatchWriteItem')) {
        throttled += 1;
        return reply(400, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'injected throttling' }));
      }
      try {
        const answer = await forward(body, incoming.headers);
        reply(answer.status, answer.body);
      } catch {
        incoming.socket.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode: (next) => {
      mode = next;
      if (next === 'unavailable') for (const socket of sockets) socket.destroy();
    },
    injected: () => ({ throttled, dropped }),
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
