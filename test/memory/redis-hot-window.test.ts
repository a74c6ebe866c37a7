import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory, type OpenedMemory } from '../../src/memory/create.js';
import { callKeys } from '../../src/memory/redis-keys.js';
import { capturingLogger, isolation, memoryOptions, REDIS_URL, say, startDynalite, textOf } from './memory-fixtures.js';

describe('Redis hot window', () => {
  const space = isolation('hot-window');
  let dynamo: Awaited<ReturnType<typeof startDynalite>>;
  let memory: OpenedMemory;
  let redis: Redis;
  const logger = capturingLogger();

  beforeAll(async () => {
    dynamo = await startDynalite();
    redis = new Redis(REDIS_URL);
    memory = await openMemory(memoryOptions({ ...space, dynamoEndpoint: dynamo.endpoint, hotTtlSeconds: 1800 }), logger.log);
  });
  afterAll(async () => {
    await memory.close();
    await redis.quit();
    await dynamo.close();
    await space.cleanup();
  });

  it('returns the newest messages oldest first', async () => {
    for (let i = 1; i <= 5; i += 1) await memory.store.remember('order', say(`m${i}`, i % 2 ? 'user' : 'assistant'));
    const context = await memory.store.context('order', 3);
    expect(context.map(textOf)).toEqual(['m3', 'm4', 'm5']);
    expect(context.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(context.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('trims the window to windowMessages and sets the expiry on every key', async () => {
    for (let i = 1; i <= 25; i += 1) await memory.store.remember('bound', say(`m${i}`));
    const keys = callKeys(space.keyPrefix, 'bound');
    expect(await redis.llen(keys.msgs)).toBe(10);
    // The configured hotTtlSeconds (1800), as set by the append just made: Redis reports whole
    // seconds left, so a second boundary crossed since then reads 1799.
    for (const key of [keys.msgs, keys.seq]) expect(1800 - await redis.ttl(key)).toBeOneOf([0, 1]);
  });

  it('gives concurrent remembers of one call distinct increasing seqs, in list order', async () => {
    const stored = await Promise.all(Array.from({ length: 40 }, (_, i) => memory.store.remember('concurrent', say(`c${i}`))));
    expect(new Set(stored.map((m) => m.seq)).size).toBe(40);
    expect([...stored.map((m) => m.seq)].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const raw = await redis.lrange(callKeys(space.keyPrefix, 'concurrent').msgs, 0, -1);
    const seqs = raw.map((entry) => (JSON.parse(entry) as { seq: number }).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('keeps two messages recorded in the same millisecond', async () => {
    const [a, b] = await Promise.all([memory.store.remember('same-ms', say('a')), memory.store.remember('same-ms', say('b'))]);
    expect(a!.seq).not.toBe(b!.seq);
    expect((await memory.store.context('same-ms', 5)).map(textOf).sort()).toEqual(['a', 'b']);
  });

  it('skips a malformed stored entry with a log line instead of failing the read', async () => {
    await memory.store.remember('malformed', say('good-1'));
    await redis.rpush(callKeys(space.keyPrefix, 'malformed').msgs, '{not json');
    await memory.store.remember('malformed', say('good-2'));
    const context = await memory.store.context('malformed', 10);
    expect(context.map(textOf)).toEqual(['good-1', 'good-2']);
    expect(logger.lines().some((line) => line.event === 'memory.malformed_entry' && line.callId === 'malformed')).toBe(true);
  });

  it('stores snapshots in Redis with an expiry', async () => {
    await memory.store.saveSnapshot('snap', { value: 'listening', context: { turnsCompleted: 2 } });
    expect(await memory.store.loadSnapshot('snap')).toEqual({ value: 'listening', context: { turnsCompleted: 2 } });
    expect(await redis.ttl(callKeys(space.keyPrefix, 'snap').snap)).toBeGreaterThan(0);
  });

  it('caches responses in Redis with an expiry and counts hits and misses', async () => {
    expect(await memory.responseCache.get('k1')).toBeUndefined();
    await memory.responseCache.set('k1', 'We open at nine.');
    expect(await memory.responseCache.get('k1')).toBe('We open at nine.');
    expect(await redis.ttl(`${space.keyPrefix}rc:k1`)).toBeGreaterThan(0);
    expect(memory.responseCache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });
});
