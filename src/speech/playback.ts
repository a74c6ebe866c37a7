import { FRAME_MS, type AudioFormat } from './audio-format.js';
import { AudioFramer } from './framer.js';

/** What outbound audio needs of the line (Twilio Media Streams: `media`, `mark`, `clear`). */
export interface PlaybackTransport {
  sendFrame(frame: Uint8Array): void;
  /** Resolves when everything sent before it has been played to the caller. */
  mark(name: string): Promise<void>;
  /** Drops audio the transport still holds. */
  clear(): void;
}

export interface PlaybackOptions {
  format: AudioFormat;
  /** Audio queued ahead of the clock; what a barge-in can lose at most. Default 120 ms. */
  leadMs?: number;
  /**
   * How much of the lead drains before the pacer tops it up: frames leave in groups of
   * `refillMs / 20`, in one write. Default 60 ms (three frames), so at least 60 ms stays queued.
   */
  refillMs?: number;
  /** Milliseconds, monotonic. Default `performance.now`. */
  now?: () => number;
  /** Each frame as it goes to the transport; `late`: its playout time had already passed. */
  onFrameSent?(late: boolean): void;
}

export type PlaybackOutcome = { chunkId: string; outcome: 'played' } | { chunkId: string; outcome: 'cleared'; heardMs: number };

interface QueuedChunk {
  id: string;
  frames: Uint8Array[];
  complete: boolean;
  sentFrames: number;
  settle(outcome: PlaybackOutcome): void;
}

/**
 * Paces outbound audio at real time in 20 ms frames with at most `leadMs` queued ahead of the
 * clock, so a barge-in stops the caller hearing the agent within the lead. A chunk is `played`
 * when the transport acknowledges a mark sent after its last frame, not when its bytes left.
 */
export class PlaybackPacer {
  private readonly leadMs: number;
  private readonly refillMs: number;
  private readonly now: () => number;
  private readonly queue: QueuedChunk[] = [];
  /** Chunks whose every frame was sent, waiting for the transport's acknowledgement. */
  private readonly marking = new Set<QueuedChunk>();
  /** When the last frame sent will have finished playing, on `now`'s clock. */
  private playheadMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private late = 0;
  private sent = 0;
  private paused = false;

  constructor(
    private readonly transport: PlaybackTransport,
    private readonly options: PlaybackOptions,
  ) {
    this.leadMs = options.leadMs ?? 120;
    // A wake per frame cost a timer per call every 20 ms, and a socket write per frame (the pacer
    // with its sends was 8.7 % of serve's CPU at 200 Twilio calls); a transport that batches the
    // writes of one tick (the Twilio stream corks its socket) sends a group in one.
    this.refillMs = Math.min(this.leadMs, Math.max(FRAME_MS, options.refillMs ?? 60));
    this.now = options.now ?? (() => performance.now());
  }

  /** Frames sent after the clock had already passed where they should have started (the producer was behind). */
  get framesLate(): number {
    return this.late;
  }

  get framesSent(): number {
    return this.sent;
  }

  /** Queues a chunk's audio as it arrives; settles `played` after its last frame is acknowledged, or `cleared`. */
  play(chunkId: string, audio: AsyncIterable<Uint8Array>): Promise<PlaybackOutcome> {
    return new Promise((resolve) => {
      const chunk: QueuedChunk = { id: chunkId, frames: [], complete: false, sentFrames: 0, settle: resolve };
      this.queue.push(chunk);
      const framer = new AudioFramer(this.options.format);
      const generation = this.generation;
      void (async () => {
        try {
          for await (const piece of audio) {
            if (generation !== this.generation) return;
            chunk.frames.push(...framer.push(piece));
            this.pump();
          }
        } catch {
          // A broken audio stream ends its chunk where the audio stopped: the chunk must still settle.
        } finally {
          if (generation === this.generation) {
            chunk.frames.push(...framer.flush());
            chunk.complete = true;
            this.pump();
          }
        }
      })();
    });
  }

  /** Whether any chunk is still being sent or awaits its acknowledgement: the agent is speaking. */
  get busy(): boolean {
    return this.queue.length > 0 || this.marking.size > 0;
  }

  /** Holds further frames (what the transport has, at most the lead, still plays) until `resume` or `clear`. */
  pause(): void {
    this.paused = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
  }

  /** Barge-in: drops every queued frame and chunk and tells the transport to drop its own. */
  clear(): PlaybackOutcome[] {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    // The audio not yet played is the newest sent: take it off the chunks from the last one back.
    let unplayedMs = Math.max(0, this.playheadMs - now);
    const chunks = [...this.marking, ...this.queue.splice(0)];
    this.marking.clear();
    const heard = chunks.map((chunk) => chunk.sentFrames * FRAME_MS);
    for (let i = chunks.length - 1; i >= 0 && unplayedMs > 0; i -= 1) {
      const taken = Math.min(heard[i]!, unplayedMs);
      heard[i]! -= taken;
      unplayedMs -= taken;
    }
    const outcomes = chunks.map((chunk, index): PlaybackOutcome => {
      const outcome = { chunkId: chunk.id, outcome: 'cleared' as const, heardMs: heard[index]! };
      chunk.settle(outcome);
      return outcome;
    });
    this.transport.clear();
    this.playheadMs = now;
    this.paused = false;
    return outcomes;
  }

  private pump(): void {
    if (this.timer || this.paused) return;
    const now = this.now();
    while (this.queue.length > 0) {
      const chunk = this.queue[0]!;
      if (chunk.sentFrames < chunk.frames.length) {
        if (Math.max(this.playheadMs, now) + FRAME_MS - now > this.leadMs) break;
        const late = this.sent > 0 && this.playheadMs < now;
        if (late) this.late += 1;
        this.playheadMs = Math.max(this.playheadMs, now) + FRAME_MS;
        this.transport.sendFrame(chunk.frames[chunk.sentFrames]!);
        chunk.sentFrames += 1;
        this.sent += 1;
        this.options.onFrameSent?.(late);
        continue;
      }
      if (!chunk.complete) return;
      this.queue.shift();
      this.marking.add(chunk);
      void this.transport.mark(chunk.id).then(() => {
        if (this.marking.delete(chunk)) chunk.settle({ chunkId: chunk.id, outcome: 'played' });
      });
    }
    if (this.queue.length === 0) return;
    // Wake when `refillMs` of the lead has drained.
    const waitMs = Math.max(1, this.playheadMs - now - this.leadMs + this.refillMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, waitMs);
  }
}
