import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { isAuthorized } from '../../src/telephony/auth.js';
import { createWebhookTool } from '../../src/tools/backends/webhook.js';
import { executeToolUses } from '../../src/tools/executor.js';
import { createToolRegistry } from '../../src/tools/registry.js';
import { CallerClient } from '../integration/caller-client.js';
import { capturingLogger, eventually } from '../memory/memory-fixtures.js';
import { startReliabilityNode, type ReliabilityNode } from './reliability-node.js';

// Also part of the security suite, not repeated here: webhook allow-list, private and loopback
// addresses, size and time caps (test/tools/webhook-tool.test.ts); unknown configuration keys
// refused and API keys never printed (test/config/config-errors.test.ts); 401 without a key and
// 404 on other paths (test/integration/protocol-errors.test.ts).

const KEYS = ['first-key-0123456789', 'second-key-abcdefghij'];

describe('API key check', () => {
  it('accepts each configured key, by bearer header or token parameter', () => {
    for (const key of KEYS) {
      expect(isAuthorized(`Bearer ${key}`, null, KEYS)).toBe(true);
      expect(isAuthorized(`bearer ${key}`, null, KEYS)).toBe(true);
      expect(isAuthorized(undefined, key, KEYS)).toBe(true);
    }
  });

  it('refuses a missing, empty, truncated, extended, case-changed or other-scheme key', () => {
    const key = KEYS[0]!;
    for (const presented of ['', key.slice(0, -1), `${key}x`, key.toUpperCase(), `${key} ${key}`, KEYS.join(''), 'a'.repeat(10_000)]) {
      expect(isAuthorized(`Bearer ${presented}`, null, KEYS), presented.slice(0, 40)).toBe(false);
      expect(isAuthorized(undefined, presented, KEYS), presented.slice(0, 40)).toBe(false);
    }
    expect(isAuthorized(undefined, ` ${key}`, KEYS)).toBe(false);
    expect(isAuthorized(undefined, null, KEYS)).toBe(false);
    expect(isAuthorized(`Basic ${Buffer.from(`user:${key}`).toString('base64')}`, null, KEYS)).toBe(false);
    expect(isAuthorized(`Bearer ${key}`, null, [])).toBe(false);
  });
});

describe('a node with API keys and a logger the test reads', () => {
  const FROM = '+14155550123';
  const TO = '+18005550199';
  let test: ReliabilityNode;
  let lines: () => Array<Record<string, unknown>>;

  beforeAll(async () => {
    const captured = capturingLogger();
    lines = captured.lines;
    test = await startReliabilityNode({
      log: captured.log,
      script: { ttftMs: 1, rules: [{ when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } }, { reply: 'Sure, happy to help.' }] },
      config: { server: { apiKeys: KEYS, host: '127.0.0.1' }, log: { level: 'debug' } },
    });
  });

  afterAll(async () => {
    await test?.close();
  });

  const upgradeStatus = (url: string, headers: Record<string, string> = {}) => new Promise<number>((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });

  it('refuses the calls endpoint without the right key, by header or query, with 401 before any WebSocket', async () => {
    expect(await upgradeStatus(test.url)).toBe(401);
    expect(await upgradeStatus(`${test.url}?token=${KEYS[0]!.slice(0, -1)}`)).toBe(401);
    expect(await upgradeStatus(test.url, { authorization: `Bearer ${KEYS[1]}x` })).toBe(401);
    expect(await upgradeStatus(`${test.url}?token=${KEYS[1]}`)).toBe(101);
    expect(await upgradeStatus(test.url.replace('/v1/calls', '/v1/calls/'), { authorization: `Bearer ${KEYS[0]}` })).toBe(404);
  });

  it('logs neither API keys nor full phone numbers during a whole call, tools included', async () => {
    const caller = await CallerClient.connect(`${test.url}?token=${KEYS[0]}`);
    await caller.start({ callId: 'redaction-call', from: FROM, to: TO, metadata: { note: `caller ${FROM}` } });
    await caller.turn('Is my account active?');
    await caller.turn('Thanks');
    caller.send({ type: 'hangup' });
    await caller.closed();
    const refusals = () => lines().filter((line) => line.event === 'telephony.upgrade_refused' && String(line.status).startsWith('401')).length;
    await CallerClient.connect(`${test.url}?token=wrong-key-${KEYS[1]}`).catch(() => undefined);
    // The last lines this call and the refused key write: the call's summary and a 401 (one per
    // status per 10 s: this refusal's own line, or the earlier test's that it was counted into).
    await eventually(() => lines().some((line) => line.event === 'call.summary' && line.callId === 'redaction-call')
      && refusals() >= 1);
    const text = lines().map((line) => JSON.stringify(line)).join('\n');
    expect(lines().some((line) => line.event === 'call.started' && line.callId === 'redaction-call')).toBe(true);
    for (const secret of [...KEYS, '4155550123', '8005550199', '155550123']) expect(text).not.toContain(secret);
  });
});

describe('webhook redirects', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      request.resume();
      if (request.url === '/redirect') return void response.writeHead(302, { location: `http://127.0.0.1:${port}/internal` }).end();
      if (request.url === '/metadata') return void response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      response.end('{"result":"internal data"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('does not follow a redirect, to a private address or anywhere else', async () => {
    for (const path of ['/redirect', '/metadata']) {
      const definition = createWebhookTool({
        name: 'lookup', description: 'Looks up.', inputSchema: { type: 'object' },
        url: `http://127.0.0.1:${port}${path}`, maxResponseBytes: 1_000, allowHosts: ['127.0.0.1'],
      });
      const [result] = await executeToolUses(createToolRegistry([definition]), [{ toolUseId: 't1', name: 'lookup', input: {} }],
        { callId: 'call-ssrf', agent: 'default' }, { signal: new AbortController().signal, defaultTimeoutMs: 2_000, maxResultBytes: 64_000 });
      expect(result?.status).toBe('error');
      expect(JSON.stringify(result?.content)).not.toContain('internal data');
    }
    expect(hits).toEqual(['/redirect', '/metadata']);
  });
});
