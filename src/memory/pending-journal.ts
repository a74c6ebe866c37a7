import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { durableRecordSchema, type DurableRecord } from './records.js';
import { parseMessages, stringifyMessages } from '../llm/message-json.js';
import { isProcessAlive } from '../process-alive.js';

/** One journal file; deleted once every record in it is confirmed written and no more are added. */
export interface JournalSegment {
  readonly path: string;
  outstanding: number;
  sealed: boolean;
}

/** Records per segment before a new file is started, so confirmed files can be deleted. */
export const SEGMENT_RECORDS = 2_000;

/**
 * The write-behind queue's crash safety: every queued record is appended (one `writeSync`, so it is
 * in the kernel before `remember` resolves and survives the process dying) to a segment file under
 * `<dataDir>/pending`. At open, segments left by an earlier process are read back and re-queued;
 * DynamoDB puts are idempotent per (call_id, seq), so writing a record twice is harmless.
 *
 * A failing file system (read-only, EACCES, the directory gone) never throws out of the journal:
 * the failure is logged once, counted, and `failing()` reports it (the node turns not-ready) while
 * `append` returns no segment, so the queue keeps those records in memory only. Each later append
 * tries a fresh file, so the journal heals when the disk does.
 */
export class PendingJournal {
  private active: (JournalSegment & { fd: number }) | undefined;
  private appended = 0;
  private failure: string | undefined;
  private errorCount = 0;

  private constructor(private readonly dir: string, private readonly log: Logger) {}

  /** Opens the journal and returns what earlier processes left unconfirmed, each with its segment. */
  static open(dir: string, log: Logger): { journal: PendingJournal; recovered: Array<{ record: DurableRecord; segment: JournalSegment }> } {
    mkdirSync(dir, { recursive: true });
    const journal = new PendingJournal(dir, log);
    const recovered: Array<{ record: DurableRecord; segment: JournalSegment }> = [];
    let quarantined = 0;
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.jsonl')).sort()) {
      const path = join(dir, name);
      const owner = ownerPid(name);
      if (owner !== undefined && owner !== process.pid && isProcessAlive(owner)) {
        // Another live process on this host is still writing and confirming it: taking it would
        // delete records that process has not stored yet. Left for a start after that process ends.
        log.warn({ event: 'memory.journal_live_owner', file: name, pid: owner }, 'segment of a running process left alone');
        continue;
      }
      const segment: JournalSegment = { path, outstanding: 0, sealed: true };
      const lines = readFileSync(path, 'utf8').split('\n').filter((line) => line.length > 0);
      lines.forEach((line, index) => {
        const record = parseRecord(line);
        if (typeof record === 'string') {
          // A torn last line is what a crash mid-write leaves; anything else is corruption. Either way
          // it is kept aside for an operator, never re-queued: a record DynamoDB cannot take would be
          // retried forever, and one the queue cannot key would stop the boot.
          log.warn({ event: 'memory.journal_malformed', file: name, line: index + 1, reason: record });
          quarantine(join(dir, QUARANTINE_DIR), name, line, log);
          quarantined += 1;
          return;
        }
        segment.outstanding += 1;
        recovered.push({ record, segment });
      });
      if (segment.outstanding === 0) journal.remove(path);
    }
    if (recovered.length > 0) log.info({ event: 'memory.journal_recovered', records: recovered.length });
    if (quarantined > 0) log.warn({ event: 'memory.journal_quarantined', records: quarantined, dir: join(dir, QUARANTINE_DIR) }, 'journal lines that are not records were set aside');
    return { journal, recovered };
  }

  /**
   * Appends `records` with one `writeSync`; they share the returned segment. Undefined when the
   * file system refused them: they are then not durable until DynamoDB has them.
   */
  append(records: readonly DurableRecord[]): JournalSegment | undefined {
    let lines = '';
    for (const record of records) lines += `${stringifyMessages(record)}\n`;
    try {
      if (!this.active || this.appended >= SEGMENT_RECORDS || this.failure !== undefined) this.rotate();
      const segment = this.active!;
      writeSync(segment.fd, lines);
      segment.outstanding += records.length;
      this.appended += records.length;
      this.healed();
      return segment;
    } catch (error) {
      this.failed('append', error);
      return undefined;
    }
  }

  /** Marks one record of `segment` as written to DynamoDB. */
  confirm(segment: JournalSegment): void {
    segment.outstanding -= 1;
    if (segment.sealed && segment.outstanding <= 0) this.remove(segment.path);
  }

  /** Why the journal cannot take records right now, or undefined while it can. */
  failing(): string | undefined {
    return this.failure;
  }

  /** File-system operations that failed since open (appends, rotations, deletions). */
  errors(): number {
    return this.errorCount;
  }

  /** Closes the active file; unconfirmed records stay on disk for the next open. */
  close(): void {
    if (!this.active) return;
    this.closeActive();
  }

  private rotate(): void {
    if (this.active) this.closeActive();
    const path = join(this.dir, `${Date.now().toString().padStart(15, '0')}-${process.pid}-${randomUUID().slice(0, 8)}.jsonl`);
    this.active = { path, fd: openSync(path, 'a'), outstanding: 0, sealed: false };
    this.appended = 0;
    this.log.debug({ event: 'memory.journal_segment', path });
  }

  private closeActive(): void {
    const active = this.active!;
    this.active = undefined;
    try {
      closeSync(active.fd);
    } catch (error) {
      this.failed('close', error);
    }
    active.sealed = true;
    if (active.outstanding <= 0) this.remove(active.path);
  }

  private remove(path: string): void {
    try {
      unlinkSync(path);
    } catch (error) {
      // Another process that recovered this segment may have removed it already. Any other failure
      // leaves a file whose records are replayed at the next start: harmless, puts are idempotent.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.failed('delete', error);
    }
  }

  private failed(operation: string, error: unknown): void {
    this.errorCount += 1;
    const reason = `${operation}: ${(error as Error).message}`;
    if (this.failure === undefined) {
      this.log.error({ event: 'memory.journal_failed', operation, error: (error as Error).message, dir: this.dir },
        'queued writes are in memory only until DynamoDB has them: a crash now loses them');
    }
    this.failure = reason;
  }

  private healed(): void {
    if (this.failure === undefined) return;
    this.log.info({ event: 'memory.journal_recovered_from_failure', previous: this.failure });
    this.failure = undefined;
  }
}

/** The pid in a segment name (`<ms>-<pid>-<random>.jsonl`), if it has one. */
function ownerPid(name: string): number | undefined {
  const pid = Number(name.split('-')[1]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}


/** Where recovered lines that are not records are kept, under the journal directory (never replayed). */
export const QUARANTINE_DIR = 'quarantine';

function quarantine(dir: string, segmentName: string, line: string, log: Logger): void {
  try {
    mkdirSync(dir, { recursive: true });
    appendFileSync(join(dir, segmentName), `${line}\n`);
  } catch (error) {
    log.error({ event: 'memory.journal_quarantine_failed', file: segmentName, error: (error as Error).message });
  }
}

function parseRecord(line: string): DurableRecord | string {
  let value: unknown;
  try {
    value = parseMessages(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const parsed = durableRecordSchema.safeParse(value);
  if (!parsed.success) return parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ');
  return parsed.data as DurableRecord;
}
