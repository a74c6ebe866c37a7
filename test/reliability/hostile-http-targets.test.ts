import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';

let test: TestNode;
let port: number;

beforeAll(async () => {
  test = await startTestNode({ scripts: { default: { rules: [{ reply: 'Still here.' }] } } });
  port = Number(new URL(test.url).port);
});
afterAll(async () => {
  await test?.close();
});

/** One raw HTTP/1.1 request (what fetch will not send) and the status line that comes back. */
function statusLineOf(requestHead: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${requestHead}\r\nHost: 127.0.0.1\r\n\r\n`));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) {
        resolve(received.slice(0, received.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

describe('request targets that are not URLs', () => {
  // `GET //` took serve down with an uncaught "Invalid URL" before any handler or key check ran.
  it.each([
    ['GET //', 'GET // HTTP/1.1'],
    ['an absolute target with an unclosed IPv6 host', 'GET http://[::1 HTTP/1.1'],
    ['an absolute target with a port past 65535', 'GET http://x:99999/v1/calls HTTP/1.1'],
    ['a WebSocket upgrade of GET //', 'GET // HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='],
  ])('%s gets 400 and the node keeps answering calls', async (_, head) => {
    expect(await statusLineOf(head)).toBe('HTTP/1.1 400 Bad Request');
    const caller = await CallerClient.connect(test.url);
    await caller.start();
    const says = await caller.turn('Are you there?');
    expect(says.at(-1)?.text).toBe('Still here.');
    caller.close();
  });
});
