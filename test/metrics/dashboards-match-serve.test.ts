import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerClient } from '../integration/caller-client.js';
import { startTestNode, type TestNode } from '../integration/test-node.js';
import { createExposition } from '../../src/metrics/exposition.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { exerciseEveryMetric } from './exercise-every-metric.js';
import { unknownReferences } from './grafana-queries.js';
import { exposedSeries } from './promql-references.js';

/** Metric families a Prometheus text exposition declares, with the sample names each one owns. */
function declaredFamilies(exposition: string): Map<string, string[]> {
  const families = new Map<string, string[]>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    families.set(name, type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]);
  }
  return families;
}

describe('dashboards against a running node', () => {
  let test: TestNode;
  let exposition: string;

  beforeAll(async () => {
    test = await startTestNode({
      config: { agents: { default: { systemPrompt: 'You are the receptionist of Harbor Dental.', tools: ['lookup_customer'], model: 'sonnet' } } },
      scripts: {
        default: {
          rules: [
            { when: 'account', toolUse: { name: 'lookup_customer', input: { identifier: '{{from}}' } } },
            { after: 'lookup_customer', reply: 'I found your account. Anything else?' },
            { reply: 'We are open from nine to five.' },
          ],
        },
      },
    });
    const caller = await CallerClient.connect(test.url);
    await caller.start({ callId: 'metrics-one-call', from: '+15551000000' });
    await caller.turn('Can you check my account?');
    caller.send({ type: 'hangup' });
    await caller.closed();
    exposition = await (await fetch(`${test.node.metricsUrl}/metrics`)).text();
  });
  afterAll(() => test?.close());

  it('exports every metric and label the dashboards and alert rules name, after one call', async () => {
    const live = exposedSeries(exposition);
    const declared = new Map([...declaredFamilies(exposition).values()].flat().map((name) => [name, true]));
    // A labelled metric no call has touched yet is declared without samples; its label names come
    // from the same code's metrics with every series touched.
    const metrics = createMetrics();
    exerciseEveryMetric(metrics);
    const exercised = exposedSeries((await createExposition(metrics.registry)('prometheus')).body);
    const labelsOf = (metric: string): Set<string> | undefined =>
      live.get(metric) ?? (declared.has(metric) ? exercised.get(metric) ?? new Set() : undefined);
    expect(unknownReferences(labelsOf)).toEqual([]);
  });

  it('records the call: turn latency, model time to first token, tokens, cost and tool time', () => {
    expect(exposition).toMatch(/^aybiza_turn_latency_seconds_count [1-9]/m);
    expect(exposition).toMatch(/^aybiza_model_ttft_seconds_count\{model="[^"]+",region="[^"]+"\} [1-9]/m);
    expect(exposition).toMatch(/^aybiza_tokens_total\{model="[^"]+",kind="output"\} [1-9]/m);
    expect(exposition).toMatch(/^aybiza_cost_usd_total\{model="[^"]+",agent="default"\} \d/m);
    expect(exposition).toMatch(/^aybiza_tool_duration_seconds_count\{tool="lookup_customer",outcome="[^"]+",backend="builtin"\} 1/m);
    expect(exposition).toMatch(/^aybiza_calls_ended_total\{outcome="[^"]+"\} 1/m);
  });
});
