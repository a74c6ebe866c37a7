import type { Logger } from '../log.js';
import type { JournalSegment, PendingJournal } from './pending-journal.js';
import { recordKey, type DurableRecord } from './records.js';

export interface WriteBehindOptions {
  /** Records per BatchWriteItem; DynamoDB allows at most 25. */
  maxBatch: number;
  /** How long a partial batch waits for company. */
  flushMs: number;
  /** Queued plus in-flight records beyond which `enqueue` waits (back-pressure). */
  maxQueue: number;
  /** Writes one batch; resolves with the records left unprocessed. */
  write: (records: DurableRecord[]) => Promise<DurableRecord[]>;
  journal: PendingJournal | undefined;
  log: Logger;
}

interface Queued {
  record: DurableRecord;
  segment: JournalSegment | undefined;
}

/** Batches written concurrently: enough to hide one round trip, few enough not to self-throttle. */
const MAX_BATCHES_IN_FLIGHT = 4;
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 5_000;

/** Errors that retrying the same request cannot fix: the item itself is wrong. */
const PERMANENT_ERRORS = new Set(['ValidationException', 'ItemCollectionSizeLimitExceededException']);

/**
 * The write-behind queue to DynamoDB. Records are journaled before `enqueue` resolves, batched up to
 * `maxBatch` or `flushMs`, and retried with exponential back-off and full jitter on throttling and
 * `UnprocessedItems`. Keys are unique in the queue: a newer snapshot of a call replaces the queued one.
 * When full it applies back-pressure (after journaling) rather than spilling: waiting keeps memory
 * bounded while DynamoDB is away. While the journal is failing the queue is the only copy, still
 * bounded by `maxQueue`; `unjournaled()` counts what a crash would lose.
 */
export class WriteBehindQueue {
  private queue = new Map<string, Queued>();
  private readonly inFlight = new Map<string, Queued>();
  private batchesInFlight = 0;
  private failures = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  /** After `close`: nothing more is sent; what is left stays in the journal. */
  private stopped = false;
  private writtenCount = 0;
  private unjournaledCount = 0;

  constructor(private readonly options: WriteBehindOptions) {
    if (options.maxBatch < 1 || options.maxBatch > 25) throw new Error(`memory.writeBehind.maxBatch: expected 1..25 (the BatchWriteItem limit), got ${options.maxBatch}`);
  }

  /** Re-queues records recovered from an earlier process's journal, without journaling them again. */
  restore(recovered: Array<{ record: DurableRecord; segment: JournalSegment }>): void {
    for (const { record, segment } of recovered) this.put({ record, segment });
    this.schedule();
  }

  /**
   * Journals the records (a turn's, at most a few) in one write and queues them, then resolves once
   * the queue is back under `maxQueue`. Journal first, back-pressure after: the hot window already
   * holds the turn and the caller may have heard it, so it must be durable before anything waits
   * (test/reliability/journal-before-back-pressure.test.ts). The queue can exceed `maxQueue` by the
   * turns waiting here, at most a few records per live call.
   */
  async enqueue(...records: DurableRecord[]): Promise<void> {
    const segment = this.options.journal?.append(records);
    if (this.options.journal && !segment) this.unjournaledCount += records.length;
    for (const record of records) this.put({ record, segment });
    this.schedule();
    while (this.depth() > this.options.maxQueue && !this.closing) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  /** Why the journal cannot take records now (the node reports not-ready), or undefined. */
  journalFailure(): string | undefined {
    return this.options.journal?.failing();
  }

  /** Records queued while the journal could not take them: lost if the process dies before DynamoDB has them. */
  unjournaled(): number {
    return this.unjournaledCount;
  }

  /** Queued records of one call not yet confirmed, oldest first: reads merge them with DynamoDB's. */
  pendingFor(callId: string): DurableRecord[] {
    const found: DurableRecord[] = [];
    // Iterated in place, not copied: this runs for every call new to the process, against up to
    // maxQueue records (copying both maps first took 2-4x longer at a depth of 10,000).
    for (const pending of [this.inFlight, this.queue]) {
      for (const queued of pending.values()) if (queued.record.callId === callId) found.push(queued.record);
    }
    return found;
  }

  depth(): number {
    return this.queue.size + this.inFlight.size;
  }

  written(): number {
    return this.writtenCount;
  }

  /** Writes everything still queued, giving up at `deadlineMs` (the journal keeps the rest for next start). */
  async close(deadlineMs: number): Promise<void> {
    this.closing = true;
    this.spaceWaiters.splice(0).forEach((resolve) => resolve());
    const deadline = Date.now() + deadlineMs;
    while (this.depth() > 0 && Date.now() < deadline) {
      this.pump(true);
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, Math.max(10, Math.min(this.retryAt - Date.now(), deadline - Date.now())))),
      ]);
    }
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.depth() > 0) this.options.log.warn({ event: 'memory.flush_incomplete', remaining: this.depth() }, 'left in the journal for the next start');
    this.options.journal?.close();
  }

  private put(queued: Queued): void {
    const key = recordKey(queued.record);
    const superseded = this.queue.get(key);
    if (superseded) {
      this.queue.delete(key);
      this.confirm(superseded);
    }
    this.queue.set(key, queued);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.pump(this.closing);
    if (!this.timer && this.queue.size > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump(true);
        this.schedule();
      }, Math.max(this.options.flushMs, this.retryAt - Date.now()));
    }
  }

  /** Sends full batches; a partial one only when `partial` (its flush time came, or closing). */
  private pump(partial: boolean): void {
    if (this.stopped || this.retryAt > Date.now()) return;
    while (this.batchesInFlight < MAX_BATCHES_IN_FLIGHT && (this.queue.size >= this.options.maxBatch || (partial && this.queue.size > 0))) {
      const batch: Queued[] = [];
      for (const [key, queued] of this.queue) {
        // A key already in flight waits, so two versions of one item never race.
        if (this.inFlight.has(key)) continue;
        batch.push(queued);
        if (batch.length >= this.options.maxBatch) break;
      }
      if (batch.length === 0) return;
      for (const queued of batch) {
        const key = recordKey(queued.record);
        this.queue.delete(key);
        this.inFlight.set(key, queued);
      }
      this.batchesInFlight += 1;
      void this.send(batch);
    }
  }

  private async send(batch: Queued[]): Promise<void> {
    let retry: Queued[] = [];
    try {
      const unprocessed = new Set((await this.options.write(batch.map((q) => q.record))).map(recordKey));
      retry = batch.filter((q) => unprocessed.has(recordKey(q.record)));
      if (retry.length > 0) this.options.log.debug({ event: 'memory.write_unprocessed', count: retry.length });
    } catch (error) {
      const name = (error as Error).name;
      if (PERMANENT_ERRORS.has(name) && batch.length > 1) {
        // Find the bad item: each record retried alone.
        this.settle(batch, []);
        for (const queued of batch) void this.sendAlone(queued);
        return;
      }
      if (PERMANENT_ERRORS.has(name)) {
        this.options.log.error({ event: 'memory.write_rejected', callId: batch[0]!.record.callId, kind: batch[0]!.record.kind, error: (error as Error).message });
      } else {
        this.options.log.warn({ event: 'memory.write_failed', error: (error as Error).message, code: name, records: batch.length });
        retry = batch;
      }
    }
    this.settle(batch, retry);
  }

  private async sendAlone(queued: Queued): Promise<void> {
    this.inFlight.set(recordKey(queued.record), queued);
    this.batchesInFlight += 1;
    await this.send([queued]);
  }

  private settle(batch: Queued[], retry: Queued[]): void {
    this.batchesInFlight -= 1;
    const retried = new Set(retry);
    for (const queued of batch) {
      const key = recordKey(queued.record);
      this.inFlight.delete(key);
      if (!retried.has(queued)) {
        this.writtenCount += 1;
        this.confirm(queued);
      }
    }
    if (retry.length > 0) {
      this.failures += 1;
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.failures, 16));
      this.retryAt = Date.now() + Math.random() * ceiling;
      const fresh = this.queue;
      this.queue = new Map();
      for (const queued of retry) {
        // A newer version queued meanwhile wins; the retried one is obsolete.
        if (fresh.has(recordKey(queued.record))) this.confirm(queued);
        else this.queue.set(recordKey(queued.record), queued);
      }
      for (const [key, queued] of fresh) this.queue.set(key, queued);
    } else {
      this.failures = 0;
    }
    this.wake();
    this.schedule();
  }

  private confirm(queued: Queued): void {
    if (queued.segment) this.options.journal?.confirm(queued.segment);
    else if (this.options.journal) this.unjournaledCount -= 1;
  }

  private wake(): void {
    while (this.spaceWaiters.length > 0 && this.depth() <= this.options.maxQueue) this.spaceWaiters.shift()!();
    if (this.depth() === 0 || this.batchesInFlight === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
  }
}
