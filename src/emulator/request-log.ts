export type EmulatorOperation = 'ConverseStream' | 'Converse';

/** What the emulator remembers of one model request. Times are epoch ms (src/clock.ts). */
export interface EmulatorRequestRecord {
  id: string;
  modelId: string;
  /** From the SigV4 credential scope of the Authorization header; empty when the request was unsigned. */
  region: string;
  operation: EmulatorOperation;
  callId?: string;
  turn?: number;
  agent?: string;
  /** The W3C `traceparent` header the client sent, if any. */
  traceparent?: string;
  body: unknown;
  status: number;
  fault?: string;
  /** The Bedrock error name when the request was refused or the stream failed. */
  errorType?: string;
  errorMessage?: string;
  stopReason?: string;
  receivedAt: number;
  firstTokenAt?: number;
  /** When the delta with the first `.`, `!` or `?` of the reply text was sent. */
  firstSentenceEndAt?: number;
  lastTokenAt?: number;
  completedAt?: number;
  aborted: boolean;
}

/** The most recent records, oldest first; the oldest is dropped when full. */
export class RequestLog {
  private readonly records: EmulatorRequestRecord[] = [];
  private next = 0;
  /**
   * The records of each call, oldest first: a load run asks for one call's records after every turn,
   * and scanning the whole log for each ask made the emulator the bottleneck of the run.
   */
  private readonly byCall = new Map<string, EmulatorRequestRecord[]>();

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`requestLogSize must be an integer >= 1, got ${capacity}`);
  }

  add(record: EmulatorRequestRecord): void {
    if (this.records.length < this.capacity) this.records.push(record);
    else {
      this.forget(this.records[this.next]!);
      this.records[this.next] = record;
    }
    this.next = (this.next + 1) % this.capacity;
    if (record.callId !== undefined) {
      const ofCall = this.byCall.get(record.callId);
      if (ofCall) ofCall.push(record);
      else this.byCall.set(record.callId, [record]);
    }
  }

  /** Drops an evicted record from its call's index; being the oldest in the log, it is the oldest of its call. */
  private forget(evicted: EmulatorRequestRecord): void {
    if (evicted.callId === undefined) return;
    const ofCall = this.byCall.get(evicted.callId);
    if (ofCall?.[0] === evicted) ofCall.shift();
    if (ofCall?.length === 0) this.byCall.delete(evicted.callId);
  }

  /** Copies, so a reader cannot change the log. */
  list(filter: { callId?: string } = {}): EmulatorRequestRecord[] {
    if (filter.callId !== undefined) return (this.byCall.get(filter.callId) ?? []).map((record) => ({ ...record }));
    const ordered = this.records.length < this.capacity
      ? this.records
      : [...this.records.slice(this.next), ...this.records.slice(0, this.next)];
    return ordered
      .filter((record) => filter.callId === undefined || record.callId === filter.callId)
      .map((record) => ({ ...record }));
  }

  get size(): number {
    return this.records.length;
  }
}
