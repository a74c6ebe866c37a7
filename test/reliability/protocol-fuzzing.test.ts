import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProtocolFuzz, startFuzzNode, type FuzzResult } from './protocol-fuzz.js';
import type { ReliabilityNode } from './reliability-node.js';
import { replaySeed, TEST_SEED } from '../support/test-seed.js';

const soak = process.env.AYBIZA_SOAK === '1';
const FRAMES = soak ? 100_000 : 3_000;
/** Heap growth after a full collection that still counts as "back at baseline": the emulator keeps a bounded request log. */
const HEAP_SLACK_BYTES = 32 * 1024 * 1024;

let test: ReliabilityNode;
let result: FuzzResult;

beforeAll(async () => {
  test = await startFuzzNode();
  result = await runProtocolFuzz(test, { seed: TEST_SEED, frames: FRAMES });
}, 300_000);

afterAll(async () => {
  await test?.close();
});

describe('protocol fuzzing of /v1/calls', () => {
  it(`sends at least ${FRAMES} hostile frames of every kind the issue lists`, () => {
    expect(result.framesSent).toBeGreaterThanOrEqual(FRAMES);
    for (const kind of ['invalid-utf8', 'not-json', 'json-not-object', 'no-type', 'type-not-string', 'unknown-type', 'wrong-type',
      'unknown-key', 'missing-field', 'deep-array', 'deep-in-metadata', 'transcript-too-long', 'frame-over-soft-limit',
      'frame-over-hard-limit', 'binary', 'duplicate-start', 'played-out-of-order', 'transcript-hostile-text', 'dtmf', 'speech-started']) {
      expect(result.byKind[kind], `${kind}; ${replaySeed}`).toBeGreaterThan(0);
    }
  });

  it('answers every frame with its documented error code or close, in order', () => {
    expect(result.mismatches, replaySeed).toEqual([]);
  });

  it('keeps serving calls, and ends every fuzzed call', () => {
    expect(result.survived, replaySeed).toBe(true);
    expect(result.callsLeftActive, replaySeed).toBe(0);
  });

  it('lets a concurrent well-behaved call complete all its turns', () => {
    expect(result.wellBehavedTurns.completed, replaySeed).toBe(result.wellBehavedTurns.asked);
  });

  it('returns the heap to its baseline after a full collection', () => {
    expect(result.heapAfterBytes - result.heapBaselineBytes).toBeLessThan(HEAP_SLACK_BYTES);
  });
});
