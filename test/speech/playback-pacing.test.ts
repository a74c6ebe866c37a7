import { describe, expect, it, vi } from 'vitest';
import { AsyncQueue } from '../../src/speech/async-queue.js';
import { PlaybackPacer, type PlaybackTransport } from '../../src/speech/playback.js';

const FORMAT = { encoding: 'mulaw', sampleRateHz: 8_000 } as const;

/** A transport that records when each frame left, on the pacer's own clock, and acknowledges marks when told. */
function recordingTransport(now: () => number) {
  const sentAt: number[] = [];
  const marks: { name: string; framesBefore: number; ack: () => void }[] = [];
  let cleared = 0;
  const transport: PlaybackTransport = {
    sendFrame: () => sentAt.push(now()),
    mark: (name) => new Promise<void>((resolve) => marks.push({ name, framesBefore: sentAt.length, ack: resolve })),
    clear: () => (cleared += 1),
  };
  return { transport, sentAt, marks, cleared: () => cleared };
}

async function* pieces(totalBytes: number, pieceBytes: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < totalBytes; at += pieceBytes) yield new Uint8Array(Math.min(pieceBytes, totalBytes - at)).fill(0x55);
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('playback pacing', () => {
  it('never holds more than the lead ahead of the clock, frame by frame', async () => {
    // On a fake clock, so what is asserted is the pacer's arithmetic, not how late a busy machine woke it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const now = () => performance.now();
      const { transport, sentAt, marks } = recordingTransport(now);
      const pacer = new PlaybackPacer(transport, { format: FORMAT, leadMs: 100, now });
      const played = pacer.play('s1', pieces(160 * 25, 1_000));
      for (let step = 0; step < 200 && marks.length === 0; step++) await vi.advanceTimersByTimeAsync(5);
      expect(sentAt).toHaveLength(25);
      const start = sentAt[0]!;
      // Frame i is queued ahead of the clock by (i + 1) × 20 ms − elapsed; the pacer keeps that within the lead.
      sentAt.forEach((at, i) => expect((i + 1) * 20 - (at - start)).toBeLessThanOrEqual(100));
      // And it does queue ahead: the first five frames leave at once.
      expect(sentAt.slice(0, 5)).toEqual([start, start, start, start, start]);
      marks[0]!.ack();
      expect(await played).toEqual({ chunkId: 's1', outcome: 'played' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('tops the lead up in groups of refillMs, each group sent at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const now = () => performance.now();
      const { transport, sentAt, marks } = recordingTransport(now);
      const pacer = new PlaybackPacer(transport, { format: FORMAT, leadMs: 120, refillMs: 60, now });
      void pacer.play('s1', pieces(160 * 30, 160 * 30));
      for (let step = 0; step < 400 && marks.length === 0; step++) await vi.advanceTimersByTimeAsync(5);
      expect(sentAt).toHaveLength(30);
      const start = sentAt[0]!;
      const groups = new Map<number, number>();
      for (const at of sentAt) groups.set(at, (groups.get(at) ?? 0) + 1);
      // The lead's six frames at once, then a wake every 60 ms with three more.
      expect([...groups.values()]).toEqual([6, 3, 3, 3, 3, 3, 3, 3, 3]);
      expect([...groups.keys()].map((at) => at - start)).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480]);
      sentAt.forEach((at, i) => expect((i + 1) * 20 - (at - start)).toBeLessThanOrEqual(120));
      pacer.clear();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports played only after the mark behind the last frame is acknowledged', async () => {
    const { transport, marks, sentAt } = recordingTransport(() => performance.now());
    const pacer = new PlaybackPacer(transport, { format: FORMAT });
    let settled = false;
    const played = pacer.play('s1', pieces(330, 330)).then((outcome) => {
      settled = true;
      return outcome;
    });
    await until(() => marks.length === 1);
    expect(marks[0]!.framesBefore).toBe(3);
    expect(sentAt).toHaveLength(3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toBe(false);
    marks[0]!.ack();
    expect((await played).outcome).toBe('played');
  });

  it('on barge-in drops what is queued, clears the transport, and says how much was heard', async () => {
    const { transport, sentAt, cleared } = recordingTransport(() => performance.now());
    const pacer = new PlaybackPacer(transport, { format: FORMAT, leadMs: 100 });
    const first = pacer.play('s1', pieces(160 * 50, 160 * 50));
    const second = pacer.play('s2', pieces(160 * 10, 160 * 10));
    await until(() => sentAt.length >= 10);
    const outcomes = pacer.clear();
    const sentWhenCleared = sentAt.length;
    expect(cleared()).toBe(1);
    expect(outcomes.map((o) => [o.chunkId, o.outcome])).toEqual([['s1', 'cleared'], ['s2', 'cleared']]);
    const heard = outcomes[0]!.outcome === 'cleared' ? outcomes[0]!.heardMs : -1;
    expect(heard).toBeLessThanOrEqual(sentWhenCleared * 20);
    expect(heard).toBeGreaterThanOrEqual(sentWhenCleared * 20 - 100);
    expect((await first).outcome).toBe('cleared');
    expect((await second).outcome).toBe('cleared');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sentAt.length).toBe(sentWhenCleared);
  });

  it('reports each frame as it is sent, late when the audio arrived after its playout time', async () => {
    let clockMs = 0;
    const now = () => clockMs;
    const { transport, sentAt } = recordingTransport(now);
    const reports: boolean[] = [];
    const pacer = new PlaybackPacer(transport, { format: FORMAT, leadMs: 100, now, onFrameSent: (late) => reports.push(late) });
    const audio = new AsyncQueue<Uint8Array>();
    void pacer.play('s1', audio);
    audio.push(new Uint8Array(320).fill(0x55));
    await until(() => sentAt.length === 2);
    // The next frame would have started at 40 ms; Polly's next bytes arrive at 70 ms: the caller heard a gap.
    clockMs = 70;
    audio.push(new Uint8Array(160).fill(0x55));
    await until(() => sentAt.length === 3);
    clockMs = 80;
    audio.push(new Uint8Array(160).fill(0x55));
    await until(() => sentAt.length === 4);
    expect(reports).toEqual([false, false, true, false]);
    expect(pacer.framesLate).toBe(1);
    pacer.clear();
  });
});
