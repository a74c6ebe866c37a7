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

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`requestLogSize must be an integer >= 1, got ${capacity}`);
  }

  add(record: EmulatorRequestRecord): void {
    if (this.records.length < this.capacity) this.records.push(record);
    else this.records[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Copies, so a reader cannot change the log. */
  list(filter: { callId?: string } = {}): EmulatorRequestRecord[] {
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
