import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveAgentList } from '../../src/telephony/agent-list.js';

const KEY = 'a-key-of-some-length';
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (!serveAgentList(request, response, ['default', 'billing'], [KEY])) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('GET /v1/agents', () => {
  it('lists the agent names to a caller with a key', async () => {
    const response = await fetch(`${base}/v1/agents?token=${KEY}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ agents: ['default', 'billing'] });
  });

  it('refuses a caller without a key, like a call', async () => {
    expect((await fetch(`${base}/v1/agents`)).status).toBe(401);
    expect((await fetch(`${base}/v1/agents`, { headers: { authorization: 'Bearer wrong-key-here' } })).status).toBe(401);
  });

  it('leaves other paths to the server', async () => {
    expect((await fetch(`${base}/v1/other`)).status).toBe(404);
  });
});
