import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccounting } from '../../src/accounting/accounting.js';
import { redisCalibrationStore } from '../../src/accounting/redis-calibration-store.js';
import { createMetrics } from '../../src/metrics/metrics.js';

describe('calibration ratios in Redis', () => {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  const key = `aybiza:test:calibration:${process.pid}:${Date.now()}`;
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
  });

  it('lets a new accounting pool start from the ratios an earlier one learnt', async () => {
    const store = redisCalibrationStore(redis, key);
    const first = createAccounting({ poolSize: 1, queueMax: 1, trimTimeoutMs: 1_000, metrics: createMetrics(), calibrationStore: store });
    first.calibrate({ modelId: 'haiku', tokenizerTokens: 1_000, usage: { inputTokens: 900, cacheReadInputTokens: 200, cacheWriteInputTokens: 0, outputTokens: 10 } });
    await first.close();
    await expect.poll(async () => (await store.load()).haiku).toBeCloseTo(1.1, 6);

    const second = createAccounting({ poolSize: 1, queueMax: 1, trimTimeoutMs: 1_000, metrics: createMetrics(), calibrationStore: store });
    await expect.poll(() => second.calibrationRatio('haiku')).toBeCloseTo(1.1, 6);
    await second.close();
  });
});
