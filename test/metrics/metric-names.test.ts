import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createExposition } from '../../src/metrics/exposition.js';
import { exerciseEveryMetric } from './exercise-every-metric.js';

interface Family { name: string; type: string; labels: Set<string> }

async function families(): Promise<Family[]> {
  const metrics = createMetrics();
  exerciseEveryMetric(metrics);
  const all = await metrics.registry.getMetricsAsJSON();
  return all.map((m) => ({
    name: m.name,
    type: String(m.type),
    labels: new Set(m.values.flatMap((v) => Object.keys(v.labels).filter((l) => l !== 'le'))),
  }));
}

describe('runtime metric names', () => {
  it('prefixes every runtime metric and names counters _total and durations _seconds', async () => {
    const ours = (await families()).filter((f) => !/^(process|nodejs)_/.test(f.name));
    expect(ours.length).toBeGreaterThan(15);
    for (const family of ours) {
      expect(family.name).toMatch(/^aybiza_[a-z0-9_]+$/);
      if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
      else expect(family.name).not.toMatch(/_total$/);
      if (family.type === 'histogram') expect(family.name).toMatch(/_seconds$/);
    }
  });

  it('labels each metric with its dimensions and never with a call id or phone number', async () => {
    const labels = Object.fromEntries((await families()).map((f) => [f.name, [...f.labels].sort()]));
    expect(labels).toMatchObject({
      aybiza_model_ttft_seconds: ['model', 'region'],
      aybiza_model_stream_duration_seconds: ['model', 'region'],
      aybiza_model_requests_total: ['model', 'outcome', 'region'],
      aybiza_tokens_total: ['kind', 'model'],
      aybiza_cost_usd_total: ['agent', 'model'],
      aybiza_fallback_hops_total: ['kind', 'reason'],
      aybiza_tool_duration_seconds: ['backend', 'outcome', 'tool'],
      aybiza_turn_latency_seconds: [],
      aybiza_barge_ins_total: [],
      aybiza_actor_restarts_total: ['kind'],
      aybiza_calls_ended_total: ['outcome'],
      aybiza_calls_active: [],
      aybiza_frames_total: ['direction'],
      aybiza_protocol_errors_total: ['code'],
      aybiza_accounting_queue_depth: [],
      aybiza_accounting_task_duration_seconds: ['task'],
      aybiza_accounting_trim_fallbacks_total: ['reason'],
      aybiza_accounting_trim_skips_total: [],
      aybiza_memory_write_queue_depth: [],
      aybiza_stt_final_latency_seconds: [],
      aybiza_stt_stream_errors_total: ['words'],
      aybiza_tts_first_byte_seconds: [],
      aybiza_tts_failures_total: ['outcome'],
      aybiza_mouth_to_ear_seconds: [],
      aybiza_speech_barge_ins_total: ['kind'],
      aybiza_speech_backchannels_ignored_total: [],
      aybiza_audio_frames_total: ['direction'],
      aybiza_audio_frames_late_total: [],
    });
    for (const names of Object.values(labels)) {
      for (const name of names) expect(name).not.toMatch(/call|phone|caller|from|to$/);
    }
  });

  it('counts tokens by kind and reads gauges from their sources at scrape time', async () => {
    const metrics = createMetrics();
    let active = 2;
    metrics.setActiveCallsSource(() => active);
    metrics.countTokens('m', { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 3, cacheWriteInputTokens: 4 });
    active = 5;
    const { body } = await createExposition(metrics.registry)('prometheus');
    expect(body).toContain('aybiza_calls_active 5');
    expect(body).toContain('aybiza_tokens_total{model="m",kind="input"} 1');
    expect(body).toContain('aybiza_tokens_total{model="m",kind="output"} 2');
    expect(body).toContain('aybiza_tokens_total{model="m",kind="cache_read"} 3');
    expect(body).toContain('aybiza_tokens_total{model="m",kind="cache_write"} 4');
  });

  it('exposes default process metrics and event-loop lag on the same registry', async () => {
    const names = (await families()).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total']));
  });

  it('gives each instance its own registry', () => {
    expect(() => { createMetrics(); createMetrics(); }).not.toThrow();
    expect(createMetrics().registry).not.toBe(createMetrics().registry);
  });
});
