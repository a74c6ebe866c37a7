import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { DurableRecord } from './records.js';
import { parseMessages, stringifyMessages } from '../llm/message-json.js';

/** One journal file; deleted once every record in it is confirmed written and no more are added. */
export interface JournalSegment {
  readonly path: string;
  outstanding: number;
  sealed: boolean;
}

/** Records per segment before a new file is started, so confirmed files can be deleted. */
const SEGMENT_RECORDS = 2_000;

/**
 * The write-behind queue's crash safety: every queued record is appended (one `writeSync`, so it is
 * in the kernel before `remember` resolves and survives the process dying) to a segment file under
 * `<dataDir>/pending`. At open, segments left by an earlier process are read back and re-queued;
 * DynamoDB puts are idempotent per (call_id, seq), so writing a record twice is harmless.
 */
export class PendingJournal {
  private active: (JournalSegment & { fd: number }) | undefined;
  private appended = 0;

  private constructor(private readonly dir: string, private readonly log: Logger) {}

  /** Opens the journal and returns what earlier processes left unconfirmed, each with its segment. */
  static open(dir: string, log: Logger): { journal: PendingJournal; recovered: Array<{ record: DurableRecord; segment: JournalSegment }> } {
    mkdirSync(dir, { recursive: true });
    const journal = new PendingJournal(dir, log);
    const recovered: Array<{ record: DurableRecord; segment: JournalSegment }> = [];
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.jsonl')).sort()) {
      const path = join(dir, name);
      const segment: JournalSegment = { path, outstanding: 0, sealed: true };
      const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
      lines.forEach((line, index) => {
        const record = parseRecord(line);
        if (typeof record === 'string') {
          // A torn last line is what a crash mid-write leaves; anything else is corruption. Either way, skip it.
          log.warn({ event: 'memory.journal_malformed', file: name, line: index + 1, reason: record });
          return;
        }
        segment.outstanding += 1;
        recovered.push({ record, segment });
      });
      if (segment.outstanding === 0) removeFile(path);
    }
    if (recovered.length > 0) log.info({ event: 'memory.journal_recovered', records: recovered.length });
    return { journal, recovered };
  }

  /** Appends `records` with one `writeSync`; they share the returned segment. */
  append(records: readonly DurableRecord[]): JournalSegment {
    if (!this.active || this.appended >= SEGMENT_RECORDS) this.rotate();
    const segment = this.active!;
    let lines = '';
    for (const record of records) lines += `${stringifyMessages(record)}\n`;
    writeSync(segment.fd, lines);
    segment.outstanding += records.length;
    this.appended += records.length;
    return segment;
  }

  /** Marks one record of `segment` as written to DynamoDB. */
  confirm(segment: JournalSegment): void {
    segment.outstanding -= 1;
    if (segment.sealed && segment.outstanding <= 0) removeFile(segment.path);
  }

  /** Closes the active file; unconfirmed records stay on disk for the next open. */
  close(): void {
    if (!this.active) return;
    closeSync(this.active.fd);
    this.seal(this.active);
    this.active = undefined;
  }

  private rotate(): void {
    if (this.active) {
      closeSync(this.active.fd);
      this.seal(this.active);
    }
    const path = join(this.dir, `${Date.now().toString().padStart(15, '0')}-${process.pid}-${randomUUID().slice(0, 8)}.jsonl`);
    this.active = { path, fd: openSync(path, 'a'), outstanding: 0, sealed: false };
    this.appended = 0;
    this.log.debug({ event: 'memory.journal_segment', path });
  }

  private seal(segment: JournalSegment): void {
    segment.sealed = true;
    if (segment.outstanding <= 0) removeFile(segment.path);
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    // Another process that recovered this segment may have removed it already.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function parseRecord(line: string): DurableRecord | string {
  let value: unknown;
  try {
    value = parseMessages(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const record = value as Partial<DurableRecord> | null;
  if (!record || typeof record.callId !== 'string') return 'callId: expected a string';
  if (record.kind !== 'message' && record.kind !== 'snapshot' && record.kind !== 'snapshot-delete' && record.kind !== 'summary') {
    return `kind: unknown ${String(record.kind)}`;
  }
  return record as DurableRecord;
}
