import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/runner.js';

const scenariosDir = new URL('../../scenarios/', import.meta.url).pathname;
const libraryFiles = readdirSync(scenariosDir).filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'));

/**
 * `npm test` replays each scenario with 10 calls started over one second: every step, tool and
 * barge-in of the library runs. `npm run soak` replays 50 calls (fewer where the scenario's own
 * `load.calls` says so: the demo calendar has twelve Tuesday-afternoon times) over the scenario's
 * own ramp, as `aybiza load FILE --calls 50 --pace fast` would (fast: words at once, answers heard at 60 ms a word). Each replay starts its own node on ephemeral ports under its
 * own Redis prefix, so the scenarios run side by side; a call's length is mostly paced waiting.
 */
const soak = process.env.AYBIZA_SOAK === '1';
const CALLS = soak ? 50 : 10;
const callsOf = (name: string): number =>
  Math.min(CALLS, (JSON.parse(readFileSync(join(scenariosDir, name), 'utf8')) as { load?: { calls?: number } }).load?.calls ?? CALLS);
const RAMP_SECONDS = soak ? undefined : 1;

describe(`scenario library at ${CALLS} calls each`, () => {
  it.concurrent.each(libraryFiles)('%s: every call passes', async (name) => {
    const calls = callsOf(name);
    const report = await runLoad({ files: [join(scenariosDir, name)], calls, rampSeconds: RAMP_SECONDS, seed: 1, pace: 'fast', turnTimeoutMs: 30_000 });
    expect(report.failures).toEqual([]);
    expect(report.calls.completed).toBe(calls);
  }, 300_000);
});
