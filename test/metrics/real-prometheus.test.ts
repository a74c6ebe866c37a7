import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { poisonOnce } from '../reliability/fault-matrix.js';
import { alertQueries, dashboardQueries, grafanaDir, readGrafanaYaml, type Query } from './grafana-queries.js';

// Debian's prometheus package (`.ci/run` installs it before the tests).
const PROMETHEUS = '/usr/bin/prometheus';
const TOKEN = 'prometheus-scrape-token-0123';
/** The scrape and rule-evaluation interval here, and what Grafana's `$__rate_interval` becomes: four scrapes. */
const SCRAPE_INTERVAL = '1s';
const RATE_INTERVAL = '4s';

/** A panel query as Grafana sends it, its variables substituted. */
const asSent = (expr: string): string => expr.replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$__interval', SCRAPE_INTERVAL);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface PrometheusAnswer<T> { status: 'success' | 'error'; data: T; error?: string; errorType?: string }
type Series = Array<{ metric: Record<string, string>; value: [number, string] }>;

/**
 * The calls a dashboard needs to have something to draw: tool uses, a throttled region and its
 * fallback hop, a barge-in, a protocol error, a crashed call actor and its restart, and history trims
 * on the in-thread fallback (every trim here, with a 1 ms trim timeout).
 */
async function runLoad(url: string): Promise<void> {
  const calls = Array.from({ length: 6 }, async (_, index) => {
    const caller = await CallerClient.connect(url);
    const agent = ['default', 'throttled'][index % 2];
    await caller.start({ callId: `prometheus-${index}`, agent, from: `+1555100000${index}` });
    await caller.turn('Can you check my account?');
    await caller.turn('this is poison');
    // A barge-in: the caller speaks again while the agent is answering.
    caller.send({ type: 'transcript', text: 'What are your opening hours?', final: true });
    await caller.next((frame) => frame.type === 'say');
    caller.send({ type: 'speech_started' });
    await caller.next((frame) => frame.type === 'clear');
    await caller.turn('Thanks, that is all.');
    caller.send({ type: 'hangup' });
    await caller.closed();
  });
  const malformed = await CallerClient.connect(url);
  malformed.send('this is not JSON');
  await malformed.next((frame) => frame.type === 'error');
  malformed.close();
  await Promise.all(calls);
}

describe.skipIf(!existsSync(PROMETHEUS))(`the dashboards and rules on a real Prometheus (skipped: no ${PROMETHEUS}; apt-get install prometheus)`, () => {
  let test: TestNode;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let prometheusOutput = '';
  const dir = mkdtempSync(join(tmpdir(), 'aybiza-prometheus-'));

  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<PrometheusAnswer<T>> => {
    const response = await fetch(`${prometheusUrl}/api/v1/${path}?${new URLSearchParams(params)}`);
    return (await response.json()) as PrometheusAnswer<T>;
  };
  const query = (expr: string) => api<{ resultType: string; result: Series }>('query', { query: expr });
  /** The queries that answer no series (or an error) right now. */
  const empty = async (queries: Query[]): Promise<string[]> => {
    const problems: string[] = [];
    for (const { where, expr } of queries) {
      const answer = await query(asSent(expr));
      if (answer.status !== 'success') problems.push(`${where}: ${answer.errorType}: ${answer.error} in ${asSent(expr)}`);
      else if (answer.data.result.length === 0) problems.push(`${where}: no series for ${asSent(expr)}`);
    }
    return problems;
  };

  beforeAll(async () => {
    test = await startTestNode({
      config: {
        server: { metricsToken: TOKEN },
        accounting: { poolSize: 1, trimTimeoutMs: 1 },
        // A budget a worst-case count of these requests exceeds (their character estimate fits it), so
        // every trim asks the pool and falls back after its 1 ms: the accounting panels have series.
        agents: {
          default: { systemPrompt: 'You are the receptionist of Harbor Dental.', tools: ['lookup_customer'], model: 'sonnet', maxContextTokens: 2_000 },
          throttled: { systemPrompt: 'You are the receptionist of Harbor Dental.', tools: ['lookup_customer'], model: 'sonnet', maxContextTokens: 2_000 },
        },
      },
      effectOverrides: poisonOnce() as never,
      scripts: Object.fromEntries(['default', 'throttled'].map((agent) => [agent, {
        ttftMs: 20,
        tokensPerSecond: 200,
        rules: [
          { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } },
          { after: 'lookup_customer', reply: 'I found your account. Anything else?' },
          { when: 'hours', reply: 'We are open from nine to five on weekdays, and from nine to one on Saturdays. Is there anything else I can do for you today?' },
          { reply: 'Happy to help.' },
        ],
        // Bedrock throttling this agent's primary region: each request hops to the fallback region.
        ...(agent === 'throttled' ? { faults: { byRegion: { 'us-east-1': { throttleRate: 1 } } } } : {}),
      }])),
    });

    // The project's scrape configuration, pointed at the live node and its token, rules included.
    const scrape = readGrafanaYaml('prometheus/prometheus.yml');
    scrape.global = { ...scrape.global, scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL };
    scrape.rule_files = scrape.rule_files.map((file: string) => fileURLToPath(new URL(`prometheus/${file}`, grafanaDir)));
    const [job] = scrape.scrape_configs;
    job.static_configs = [{ targets: [new URL(test.node.metricsUrl).host] }];
    writeFileSync(join(dir, 'metrics-token'), TOKEN);
    job.authorization = { ...job.authorization, credentials_file: join(dir, 'metrics-token') };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(scrape));

    const address = `127.0.0.1:${await freePort()}`;
    prometheusUrl = `http://${address}`;
    prometheus = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${address}`, '--enable-feature=exemplar-storage', '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout?.on('data', (chunk) => (prometheusOutput += chunk));
    prometheus.stderr?.on('data', (chunk) => (prometheusOutput += chunk));
    await vi.waitFor(async () => {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited ${prometheus.exitCode}: ${prometheusOutput}`);
      expect((await fetch(`${prometheusUrl}/-/ready`)).status).toBe(200);
    }, { timeout: 30_000, interval: 200 });

    await runLoad(test.url);
    // Until every panel has data (each rate() needs two scrapes after the load), or 60 s: what is
    // still empty then is what the test reports.
    await vi.waitFor(async () => expect(await empty(dashboardQueries())).toEqual([]), { timeout: 60_000, interval: 1_000 })
      .catch(() => undefined);
  }, 180_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await test?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the node through the project\'s scrape configuration and its bearer token', async () => {
    const targets = await api<{ activeTargets: Array<{ health: string; lastError: string; labels: Record<string, string> }> }>('targets');
    expect(targets.data.activeTargets).toEqual([expect.objectContaining({ health: 'up', lastError: '', labels: expect.objectContaining({ job: 'aybiza' }) })]);
  });

  it('answers every dashboard panel\'s query with at least one series', async () => {
    expect(dashboardQueries().length).toBeGreaterThan(20);
    expect(await empty(dashboardQueries())).toEqual([]);
  });

  it('answers every recording rule with a series and evaluates every alert without error', async () => {
    const rules = await api<{ groups: Array<{ name: string; rules: Array<{ type: string; name: string; health: string; lastError?: string; query: string }> }> }>('rules');
    const loaded = rules.data.groups.flatMap((group) => group.rules);
    expect(loaded.filter((rule) => rule.type === 'alerting').map((rule) => rule.name).sort())
      .toEqual(alertQueries().map(({ where }) => where.replace('alerts.yml: ', '')).sort());
    expect(loaded.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`)).toEqual([]);
    const recordings = loaded.filter((rule) => rule.type === 'recording').map((rule) => ({ where: `recording rule ${rule.name}`, expr: rule.name }));
    expect(await empty(recordings)).toEqual([]);
    // Each alert's expression (its comparison included) on its own: evaluated, whether or not it fires now.
    for (const { where, expr } of alertQueries()) expect((await query(expr)).status, where).toBe('success');
  });

  it('keeps turn-latency exemplars that name a record id, never a call id', async () => {
    const now = Date.now() / 1000;
    const answer = await api<Array<{ exemplars: Array<{ labels: Record<string, string> }> }>>('query_exemplars', {
      query: 'aybiza_turn_latency_seconds_bucket', start: String(now - 600), end: String(now),
    });
    const labels = answer.data.flatMap((series) => series.exemplars.map((exemplar) => exemplar.labels));
    expect(labels.length).toBeGreaterThan(0);
    for (const label of labels) expect(Object.keys(label)).toEqual(['record_id']);
    expect(JSON.stringify(labels)).not.toContain('prometheus-');
  });
});
