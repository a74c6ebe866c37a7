import type { Redis } from 'ioredis';
import type { CalibrationStore } from './accounting.js';

/**
 * Calibration ratios in one Redis hash (model id → ratio), shared by every node so a restarted
 * or new node estimates well from its first request.
 */
export function redisCalibrationStore(redis: Redis, key = 'aybiza:accounting:calibration'): CalibrationStore {
  return {
    async load() {
      const stored = await redis.hgetall(key);
      return Object.fromEntries(Object.entries(stored).map(([modelId, ratio]) => [modelId, Number(ratio)]));
    },
    async save(modelId, ratio) {
      await redis.hset(key, modelId, ratio.toFixed(6));
    },
  };
}
