import fc from 'fast-check';
import type { OutboundFrame } from '../../src/protocol/frames.js';
import { CallerClient } from '../integration/caller-client.js';
import { hostileFrames, overHardLimit, SENTINEL_PREFIX, type Expected, type HostileFrame } from './hostile-frames.js';
import { heapAfterGc, startReliabilityNode, type ReliabilityNode } from './reliability-node.js';

export interface FuzzOptions {
  seed: number;
  frames: number;
  /** Connections per kind (never started / with a running call), fuzzed concurrently. */
  connections?: number;
  /** Frames sent before a marker frame whose answer closes the batch. */
  batch?: number;
  /** Turns of the well-behaved call that runs beside the fuzzing. */
  turns?: number;
}

export interface Mismatch {
  kind: string;
  expected: string;
  got: string;
  sample: string;
}

export interface FuzzResult {
  framesSent: number;
  byKind: Record<string, number>;
  /** Frames whose answer differed from the documented one. */
  mismatches: Mismatch[];
  /** Did the node stay up (the telephony endpoint still takes calls) after the run? */
  survived: boolean;
  heapBaselineBytes: number;
  heapAfterBytes: number;
  /** The well-behaved call's turns: completed with the scripted answer / asked. */
  wellBehavedTurns: { completed: number; asked: number };
  callsLeftActive: number;
}

export const FUZZ_REPLY = 'Sure, happy to help.';
const script = { ttftMs: { min: 1, max: 3 }, tokensPerSecond: 5_000, rules: [{ reply: FUZZ_REPLY }] };
/** The fuzzer measures answers to frames, not the rate limiter (test/integration/protocol-errors.test.ts covers it). */
const fuzzConfig = { server: { framesPerSecond: 10_000_000, resumeGraceMs: 100 } };

export function startFuzzNode(): Promise<ReliabilityNode> {
  return startReliabilityNode({ script, config: fuzzConfig });
}

/**
 * Sends `frames` hostile frames (seeded) to a node over many connections while a well-behaved call
 * talks on; each batch ends with a marker frame, so every answer is matched to its frame in order.
 */
export async function runProtocolFuzz(test: ReliabilityNode, options: FuzzOptions): Promise<FuzzResult> {
  const connections = options.connections ?? 8;
  const batch = options.batch ?? 50;
  const limits = test.config.server;
  const hard = overHardLimit(limits, 3);
  const perKind = Math.ceil((options.frames - hard.length) / 2);
  const fresh = fc.sample(hostileFrames(limits, true), { seed: options.seed, numRuns: perKind });
  const started = fc.sample(hostileFrames(limits, false), { seed: options.seed + 1, numRuns: options.frames - hard.length - perKind });

  // Warm up every code path once, so the baseline heap holds what a steady-state node holds.
  await fuzzConnections(test.url, fc.sample(hostileFrames(limits, false), { seed: options.seed + 2, numRuns: 300 }), 'started', 2, batch);
  await whenCallsEnd(test, 0);
  const heapBaselineBytes = heapAfterGc();

  const wellBehaved = wellBehavedCall(test.url, options.turns ?? 5);
  const results = await Promise.all([
    fuzzConnections(test.url, fresh, 'fresh', connections, batch),
    fuzzConnections(test.url, started, 'started', connections, batch),
    ...hard.map((frame) => sendAlone(test.url, frame)),
  ]);
  const turns = await wellBehaved;

  const survived = await endpointTakesCalls(test.url);
  const callsLeftActive = await whenCallsEnd(test, 0);
  const heapAfterBytes = heapAfterGc();
  const all = [...fresh, ...started, ...hard];
  const byKind: Record<string, number> = {};
  for (const frame of all) {
    const kind = frame.kind.split(':')[0]!;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return {
    framesSent: all.length,
    byKind,
    mismatches: results.flat(),
    survived,
    heapBaselineBytes,
    heapAfterBytes,
    wellBehavedTurns: turns,
    callsLeftActive,
  };
}

async function fuzzConnections(url: string, frames: HostileFrame[], state: 'fresh' | 'started', connections: number, batch: number): Promise<Mismatch[]> {
  const shares = Array.from({ length: connections }, (_, index) => frames.filter((_, position) => position % connections === index));
  const results = await Promise.all(shares.map(async (share, index) => {
    const caller = await CallerClient.connect(url);
    if (state === 'started') await caller.start({ callId: `fuzz-${state}-${index}-${Date.now()}` });
    const mismatches: Mismatch[] = [];
    for (let from = 0; from < share.length; from += batch) {
      mismatches.push(...await sendBatch(caller, share.slice(from, from + batch), state, `${index}-${from}`));
      if (caller.closedWith) {
        mismatches.push({ kind: 'connection', expected: 'open', got: `closed ${caller.closedWith.code}`, sample: '' });
        break;
      }
    }
    caller.close();
    return mismatches;
  }));
  return results.flat();
}

/** Sends a batch and a marker; the error frames before the marker's answer must be the batch's expected ones, in order. */
async function sendBatch(caller: CallerClient, frames: HostileFrame[], state: 'fresh' | 'started', marker: string): Promise<Mismatch[]> {
  const from = caller.frames.length;
  for (const frame of frames) caller.ws.send(frame.data, { binary: frame.binary });
  const name = `${SENTINEL_PREFIX}${marker}`;
  caller.send({ type: name });
  await caller.next((f) => f.type === 'error' && f.message.includes(name), 30_000);
  const errors = caller.frames.slice(from).filter((f): f is Extract<OutboundFrame, { type: 'error' }> => f.type === 'error' && !f.message.includes(name));
  const expected = frames.map((frame) => ({ frame, expected: frame.expect[state] })).filter(({ expected }) => expected.kind === 'error');
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < Math.max(errors.length, expected.length); i += 1) {
    const want = expected[i];
    const got = errors[i];
    const wantCode = want ? describeExpected(want.expected) : 'nothing';
    const gotCode = got ? `error ${got.code}${got.fatal ? ' (fatal)' : ''}` : 'nothing';
    if (wantCode !== gotCode) {
      mismatches.push({ kind: want?.frame.kind ?? 'unexpected', expected: wantCode, got: `${gotCode}: ${got?.message ?? ''}`, sample: sampleOf(want?.frame) });
      break;
    }
  }
  return mismatches;
}

async function sendAlone(url: string, frame: HostileFrame): Promise<Mismatch[]> {
  const caller = await CallerClient.connect(url);
  caller.ws.send(frame.data, { binary: frame.binary });
  await caller.closed();
  const want = describeExpected(frame.expect.fresh);
  const got = `close ${caller.closedWith?.code}`;
  return want === got ? [] : [{ kind: frame.kind, expected: want, got, sample: sampleOf(frame) }];
}

const describeExpected = (expected: Expected): string =>
  expected.kind === 'error' ? `error ${expected.code}` : expected.kind === 'close' ? `close ${expected.code}` : 'nothing';

const sampleOf = (frame: HostileFrame | undefined): string =>
  frame === undefined ? '' : String(frame.data).slice(0, 160);

/** A caller that plays by the rules: every turn must be answered with the scripted words. */
async function wellBehavedCall(url: string, turns: number): Promise<{ completed: number; asked: number }> {
  const caller = await CallerClient.connect(url);
  await caller.start({ callId: `fuzz-well-behaved-${Date.now()}` });
  let completed = 0;
  for (let turn = 1; turn <= turns; turn += 1) {
    const says = await caller.turn(`Question number ${turn}, please.`);
    if (says.map((say) => say.text).join(' ') === FUZZ_REPLY && says.at(-1)?.last && says.at(-1)?.turn === turn) completed += 1;
  }
  caller.send({ type: 'hangup' });
  await caller.closed();
  return { completed, asked: turns };
}

async function endpointTakesCalls(url: string): Promise<boolean> {
  try {
    const caller = await CallerClient.connect(url);
    await caller.start();
    caller.send({ type: 'hangup' });
    await caller.closed();
    return true;
  } catch {
    return false;
  }
}

/** Waits for suspended calls to pass their grace period; returns how many are still active. */
async function whenCallsEnd(test: ReliabilityNode, expected: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (test.node.calls.active() > expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return test.node.calls.active();
}
