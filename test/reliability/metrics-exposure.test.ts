import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { capturingLogger } from '../memory/memory-fixtures.js';
import { runCliToExit } from './cli-process.js';

const TOKEN = 'metrics-token-0123456789';
const API_KEY = 'caller-key-0123';
const OPENMETRICS = { accept: 'application/openmetrics-text; version=1.0.0' };

describe('what /metrics exposes and to whom', () => {
  let test: TestNode;
  const logs = capturingLogger();
  const callId = `exposed-${randomUUID()}`;

  beforeAll(async () => {
    test = await startTestNode({
      log: logs.log,
      config: { server: { host: '0.0.0.0', apiKeys: [API_KEY], metricsToken: TOKEN }, agents: { default: { systemPrompt: 'You answer.', tools: [], model: 'sonnet' } } },
      script: { ttftMs: 5, rules: [{ reply: 'We are open from nine to five.' }] },
    });
    const caller = await CallerClient.connect(test.url, { token: API_KEY });
    await caller.start({ callId, from: '+15551234567' });
    await caller.turn('When are you open?');
    caller.send({ type: 'hangup' });
    await caller.closed();
    await vi.waitFor(() => expect(logs.lines().some((line) => line.event === 'call.summary')).toBe(true));
  }, 60_000);
  afterAll(() => test?.close());

  const scrape = (headers: Record<string, string> = {}) => fetch(`${test.node.metricsUrl}/metrics`, { headers });

  it('answers 401 without the bearer token, and with a wrong one', async () => {
    const missing = await scrape();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await missing.text()).not.toContain('aybiza_');
    expect((await scrape({ authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await scrape({ authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` })).status).toBe(401);
    expect((await scrape({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('keeps the probes open: they tell no more than whether the node answers and takes calls', async () => {
    expect((await fetch(`${test.node.metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${test.node.metricsUrl}/readyz`)).status).toBe(200);
  });

  it('never shows the call id: the exemplar carries a record id that only the call.summary line joins to the call', async () => {
    const body = await (await scrape({ ...OPENMETRICS, authorization: `Bearer ${TOKEN}` })).text();
    expect(body).toMatch(/^aybiza_turn_latency_seconds_bucket\{le="[^"]+"\} 1 # \{record_id="[0-9a-f]{32}"\}/m);
    expect(body).not.toContain(callId);
    expect(body).not.toContain('call_id');
    const summary = logs.lines().find((line) => line.event === 'call.summary');
    expect(summary).toMatchObject({ callId, recordId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(body).toContain(`record_id="${String(summary?.recordId)}"`);
    expect(logs.lines().filter((line) => JSON.stringify(line).includes(TOKEN))).toEqual([]);
  });

  it('redacts the token when a log line carries the server configuration', () => {
    const lines = capturingLogger();
    lines.log.info({ event: 'config', server: test.config.server });
    lines.log.info({ event: 'config', ...test.config.server });
    expect(lines.lines().map((line) => line.metricsToken ?? (line.server as { metricsToken?: string }).metricsToken)).toEqual(['[redacted]', '[redacted]']);
  });

  it('listens on loopback while calls are taken on every interface', () => {
    expect(new URL(test.url).hostname).toBe('0.0.0.0');
    expect(new URL(test.node.metricsUrl).hostname).toBe('127.0.0.1');
  });
});

describe('a metrics listener beyond loopback', () => {
  it('is refused at start without a token: one line naming the token, exit 2', async () => {
    const result = await runCliToExit(['serve'], { AYBIZA_METRICS_HOST: '0.0.0.0', AYBIZA_PORT: '0', AYBIZA_METRICS_PORT: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'invalid configuration: AYBIZA_METRICS_TOKEN or server.metricsToken: got nothing — expected a token of at least 16 characters, since /metrics listens on 0.0.0.0, beyond loopback (or AYBIZA_METRICS_UNAUTHENTICATED=1 to serve it to anyone who can reach it)',
    ]);
  }, 60_000);

  it('refuses a short token without printing it', async () => {
    const result = await runCliToExit(['serve'], { AYBIZA_METRICS_TOKEN: 'short-secret', AYBIZA_PORT: '0', AYBIZA_METRICS_PORT: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd()).toBe('invalid configuration: AYBIZA_METRICS_TOKEN: got [hidden] — expected a token of at least 16 characters');
  }, 60_000);

  it('starts when asked to serve without a token, and says so in the log', async () => {
    const logs = capturingLogger();
    const test = await startTestNode({ log: logs.log, config: { server: { metricsHost: '0.0.0.0', metricsUnauthenticated: true } } });
    try {
      expect(new URL(test.node.metricsUrl).hostname).toBe('0.0.0.0');
      expect((await fetch(`http://127.0.0.1:${new URL(test.node.metricsUrl).port}/metrics`)).status).toBe(200);
      expect(logs.lines()).toContainEqual(expect.objectContaining({ level: 'warn', event: 'metrics.unauthenticated', host: '0.0.0.0' }));
    } finally {
      await test.close();
    }
  }, 60_000);
});
