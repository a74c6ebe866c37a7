import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../src/load/runner.js';

const scenariosDir = new URL('../../scenarios/', import.meta.url).pathname;
const libraryFiles = readdirSync(scenariosDir).filter((name) => name.endsWith('.json') && !name.endsWith('.schema.json'));

/** Every scenario of the library, replayed as `aybiza load FILE --calls 50` would, passes. */
describe('scenario library at 50 calls each', () => {
  it.each(libraryFiles)('%s: every call passes', async (name) => {
    const report = await runLoad({ files: [join(scenariosDir, name)], calls: 50, seed: 1, playbackMsPerWord: 60, turnTimeoutMs: 30_000 });
    expect(report.failures).toEqual([]);
    expect(report.calls.completed).toBe(50);
  }, 180_000);
});
