import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { recordId } from '../../src/metrics/record-id.js';
import { createExposition } from '../../src/metrics/exposition.js';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/server.js';
import { exerciseEveryMetric } from './exercise-every-metric.js';

const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('metrics HTTP endpoints', () => {
  const metrics = createMetrics();
  let ready: () => Promise<boolean> = async () => true;
  let server: MetricsServer;

  beforeAll(async () => {
    exerciseEveryMetric(metrics);
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, expose: createExposition(metrics.registry), ready: () => ready() });
  });
  afterAll(() => server.close());

  it('serves Prometheus text 0.0.4 by default, without exemplars', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await response.text();
    expect(body).toContain('# TYPE aybiza_turn_latency_seconds histogram');
    expect(body).toContain('aybiza_barge_ins_total 1');
    expect(body).not.toContain('record_id');
  });

  it('serves OpenMetrics with the call\'s record id as an exemplar when the scraper asks for it', async () => {
    const response = await fetch(`${server.url}/metrics`, { headers: { accept: OPENMETRICS_ACCEPT } });
    expect(response.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const body = await response.text();
    expect(body).toMatch(new RegExp(`^aybiza_turn_latency_seconds_bucket\\{le="0\\.75"\\} 1 # \\{record_id="${recordId('call-abc')}"\\} 0\\.61 \\d+(\\.\\d+)?$`, 'm'));
    expect(body).toContain('# TYPE aybiza_barge_ins counter');
    expect(body).toContain('aybiza_barge_ins_total 1');
    expect(body.endsWith('# EOF\n')).toBe(true);
  });

  it('keeps counter names after an OpenMetrics scrape, whatever the order of scrapes', async () => {
    const [open, plain] = await Promise.all([
      fetch(`${server.url}/metrics`, { headers: { accept: OPENMETRICS_ACCEPT } }).then((r) => r.text()),
      fetch(`${server.url}/metrics`).then((r) => r.text()),
    ]);
    expect(open).toContain('# EOF');
    expect(plain).toContain('# TYPE aybiza_tokens_total counter');
    expect(await metrics.registry.metrics()).toContain('# TYPE aybiza_frames_total counter');
  });

  it('answers /healthz while the process runs and /readyz from the readiness check', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    ready = async () => false;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    ready = () => Promise.reject(new Error('redis down'));
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    ready = async () => true;
  });

  it('answers 400 to a request target that is not a URL path, and goes on serving', async () => {
    const { port } = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += String(chunk)));
      socket.once('close', () => resolve(text));
      socket.once('error', reject);
    });
    expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(answer).toContain('bad request target');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers 404 to any other path', async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics/extra`)).status).toBe(404);
  });
});
