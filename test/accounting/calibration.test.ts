import { afterAll, describe, expect, it } from 'vitest';
import { createAccounting, type CalibrationStore } from '../../src/accounting/accounting.js';
import { TokenCalibration } from '../../src/accounting/calibration.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { longHistory } from './history-fixture.js';

/** Deterministic noise in [-amplitude, amplitude], so the test has no flaky seed. */
const noise = (i: number, amplitude: number): number => amplitude * Math.sin(i * 12.9898);

describe('token estimate calibration', () => {
  it('converges on the ratio Bedrock reports, per model', () => {
    const calibration = new TokenCalibration();
    for (let i = 0; i < 40; i++) {
      const estimated = 5_000 + 100 * i;
      calibration.observe('sonnet', estimated, Math.round(estimated * (1.18 + noise(i, 0.03))));
      calibration.observe('haiku', estimated, Math.round(estimated * (0.93 + noise(i, 0.03))));
    }
    expect(calibration.ratio('sonnet')).toBeCloseTo(1.18, 1);
    expect(calibration.ratio('haiku')).toBeCloseTo(0.93, 1);
    expect(calibration.ratio('unseen')).toBe(1);
  });

  it('ignores empty observations and clamps absurd ones', () => {
    const calibration = new TokenCalibration();
    expect(calibration.observe('m', 0, 500)).toBe(1);
    expect(calibration.observe('m', 100, 1_000_000)).toBe(3);
  });

  describe('through the accounting pool', () => {
    const saved = new Map<string, number>();
    const store: CalibrationStore = {
      load: async () => ({ 'restored-model': 1.25 }),
      save: async (modelId, ratio) => { saved.set(modelId, ratio); },
    };
    const accounting = createAccounting({ poolSize: 1, queueMax: 4, trimTimeoutMs: 30_000, metrics: createMetrics(), calibrationStore: store });
    afterAll(() => accounting.close());

    it('brings the trim estimate onto the reported input tokens', async () => {
      const modelId = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
      // A window where a worst-case count would not fit, so the tokenizer counts (and calibrates) every request.
      const request = { modelId, contextTokens: 40_000, maxOutputTokens: 4_000, system: 'You are a receptionist.', toolsJson: '[]', history: longHistory(3_000) };
      const trueRatio = 1.2;
      let trimmed = await accounting.trimHistory(request);
      const reported = Math.round((trimmed.tokenizerTokens as number) * trueRatio);
      for (let turn = 0; turn < 20; turn++) {
        trimmed = await accounting.trimHistory(request);
        accounting.calibrate({ modelId, tokenizerTokens: trimmed.tokenizerTokens as number, usage: { inputTokens: reported - 1_000, cacheReadInputTokens: 1_000, cacheWriteInputTokens: 0, outputTokens: 50 } });
      }
      trimmed = await accounting.trimHistory(request);
      expect(Math.abs(trimmed.estimatedTokens - reported) / reported).toBeLessThan(0.01);
      expect(saved.get(modelId)).toBeCloseTo(trueRatio, 2);
      expect(accounting.calibrationRatio('restored-model')).toBe(1.25);
    });
  });
});

describe('calibration from a call\'s own usage', () => {
  const accounting = createAccounting({ poolSize: 1, queueMax: 4, trimTimeoutMs: 30_000, metrics: createMetrics() });
  afterAll(() => accounting.close());
  const prices = { inputPerMTok: 1, outputPerMTok: 5, cacheWritePerMTok: 1.25, cacheReadPerMTok: 0.1 };

  it('pairs a trim with the next usage of the same call and model', async () => {
    const modelId = 'anthropic.claude-haiku-4-5-20251001-v1:0';
    const request = { callId: 'call-7', modelId, contextTokens: 30_000, maxOutputTokens: 4_000, system: 'You are a receptionist.', toolsJson: '[]', history: longHistory(2_000) };
    const trimmed = await accounting.trimHistory(request);
    const reported = Math.round((trimmed.tokenizerTokens as number) * 1.3);
    accounting.recordUsage({ callId: 'call-7', agent: 'clinic', modelId, prices, usage: { inputTokens: reported, outputTokens: 20, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 } });
    expect(accounting.calibrationRatio(modelId)).toBeCloseTo(1.3, 2);
    // A second usage without a new trim (e.g. a retry elsewhere) is not paired again.
    accounting.recordUsage({ callId: 'call-7', agent: 'clinic', modelId, prices, usage: { inputTokens: reported * 2, outputTokens: 20, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 } });
    expect(accounting.calibrationRatio(modelId)).toBeCloseTo(1.3, 2);
  });
});
