import { closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PendingJournal, QUARANTINE_DIR, SEGMENT_RECORDS } from '../../src/memory/pending-journal.js';
import type { DurableRecord } from '../../src/memory/records.js';
import { capturingLogger } from './memory-fixtures.js';

/** A pid above any Linux pid_max (2^22): no process has it. */
const DEAD_PID = 99_999_999;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function journalDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'aybiza-journal-'));
  dirs.push(root);
  return join(root, 'pending');
}

const deleted = (callId: string): DurableRecord => ({ kind: 'snapshot-delete', callId });
const message = (callId: string, seq: number): DurableRecord => ({
  kind: 'message', callId, message: { seq, ts: 1_700_000_000_000 + seq, role: 'user', content: [{ text: `m${seq}` }] },
});
const segments = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.jsonl'));
const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);

describe('the pending journal', () => {
  it('appends records as one JSON line each to a segment named by time, pid and a random part', () => {
    const dir = journalDir();
    const { log, lines } = capturingLogger();
    const { journal, recovered } = PendingJournal.open(dir, log);
    expect(recovered).toEqual([]);
    const segment = journal.append([message('c1', 1), deleted('c1')])!;
    expect(lines()).toMatchObject([{ level: 'debug', event: 'memory.journal_segment', path: segment.path }]);
    expect(segment).toMatchObject({ outstanding: 2, sealed: false });
    const [name] = segments(dir);
    expect(name).toMatch(new RegExp(`^\\d{15}-${process.pid}-[0-9a-f]{8}\\.jsonl$`));
    expect(segment.path).toBe(join(dir, name!));
    expect(linesOf(segment.path)).toEqual([message('c1', 1), deleted('c1')]);
    expect(journal.append([deleted('c2')])).toBe(segment);
    expect(segment.outstanding).toBe(3);
    // Nothing failed, so nothing is logged as healed.
    expect(lines().map((line) => line.event)).toEqual(['memory.journal_segment']);
  });

  it('closes its file when a segment is sealed', () => {
    const dir = journalDir();
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const { journal } = PendingJournal.open(dir, capturingLogger().log);
    journal.append([deleted('a')]);
    expect(openFiles()).toBe(before + 1);
    journal.close();
    expect(openFiles()).toBe(before);
  });

  it('counts a segment file that cannot be closed as a failure and keeps the segment', () => {
    const dir = journalDir();
    const { journal } = PendingJournal.open(dir, capturingLogger().log);
    const segment = journal.append([deleted('a')])!;
    // Close the journal's descriptor behind its back, so its own close fails with EBADF.
    const fd = readdirSync('/proc/self/fd').map(Number).find((n) => {
      try {
        return readlinkSync(`/proc/self/fd/${n}`) === segment.path;
      } catch {
        return false;
      }
    })!;
    closeSync(fd);
    journal.close();
    expect(journal.failing()).toMatch(/^close: EBADF/);
    expect(journal.errors()).toBe(1);
    expect(segment.sealed).toBe(true);
    expect(segments(dir)).toHaveLength(1);
  });

  it('keeps the active segment while its records are confirmed, and deletes it at close once all are', () => {
    const dir = journalDir();
    const { journal } = PendingJournal.open(dir, capturingLogger().log);
    const segment = journal.append([deleted('a'), deleted('b')])!;
    journal.confirm(segment);
    journal.confirm(segment);
    expect(segment.outstanding).toBe(0);
    expect(segments(dir)).toHaveLength(1);
    journal.close();
    expect(segment.sealed).toBe(true);
    expect(segments(dir)).toEqual([]);
    journal.close();
  });

  it('leaves an unconfirmed segment on disk at close', () => {
    const dir = journalDir();
    const { journal } = PendingJournal.open(dir, capturingLogger().log);
    const segment = journal.append([deleted('a'), deleted('b')])!;
    journal.confirm(segment);
    journal.close();
    expect(segments(dir)).toHaveLength(1);
  });

  it(`starts a new segment after ${SEGMENT_RECORDS} records and deletes the sealed one when its last record is confirmed`, () => {
    const dir = journalDir();
    const { journal } = PendingJournal.open(dir, capturingLogger().log);
    const first = journal.append(Array.from({ length: SEGMENT_RECORDS - 1 }, (_, i) => deleted(`c${i}`)))!;
    expect(journal.append([deleted('last')])).toBe(first);
    const second = journal.append([deleted('next')])!;
    expect(second).not.toBe(first);
    expect(first.sealed).toBe(true);
    expect(second).toMatchObject({ outstanding: 1, sealed: false });
    expect(segments(dir)).toHaveLength(2);
    for (let i = 0; i < SEGMENT_RECORDS - 1; i++) journal.confirm(first);
    expect(segments(dir)).toHaveLength(2);
    journal.confirm(first);
    expect(segments(dir)).toEqual([second.path.slice(dir.length + 1)]);
  });

  it('recovers what an earlier process left, oldest segment first, and deletes a segment once all of it is confirmed', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    const older = `000001700000000-${DEAD_PID}-aaaaaaaa.jsonl`;
    const newer = `000001700000001-${DEAD_PID}-bbbbbbbb.jsonl`;
    const newest = `000001700000002-${DEAD_PID}-cccccccc.jsonl`;
    // Created out of order: recovery follows the names (when each segment was started).
    writeFileSync(join(dir, newer), `${JSON.stringify(deleted('c3'))}\n`);
    writeFileSync(join(dir, older), `${JSON.stringify(message('c1', 1))}\n${JSON.stringify(deleted('c2'))}\n`);
    writeFileSync(join(dir, newest), `${JSON.stringify(deleted('c4'))}\n`);
    writeFileSync(join(dir, 'notes.txt'), 'not a segment');
    const { log, lines } = capturingLogger();
    const { journal, recovered } = PendingJournal.open(dir, log);
    expect(recovered.map(({ record }) => record)).toEqual([message('c1', 1), deleted('c2'), deleted('c3'), deleted('c4')]);
    const [a, b, c] = recovered.map(({ segment }) => segment);
    expect(a).toBe(b);
    expect(a).toEqual({ path: join(dir, older), outstanding: 2, sealed: true });
    expect(c).toEqual({ path: join(dir, newer), outstanding: 1, sealed: true });
    expect(lines().filter((line) => line.event === 'memory.journal_recovered')).toMatchObject([{ level: 'info', records: 4 }]);
    expect(lines().some((line) => line.event === 'memory.journal_quarantined')).toBe(false);
    journal.confirm(a!);
    expect(readdirSync(dir).sort()).toEqual([older, newer, newest, 'notes.txt']);
    journal.confirm(a!);
    expect(readdirSync(dir).sort()).toEqual([newer, newest, 'notes.txt']);
    expect(journal.errors()).toBe(0);
  });

  it('recovers a segment of this process and one whose name carries no pid', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `000001700000000-${process.pid}-aaaaaaaa.jsonl`), `${JSON.stringify(deleted('mine'))}\n`);
    writeFileSync(join(dir, 'legacy.jsonl'), `${JSON.stringify(deleted('legacy'))}\n`);
    writeFileSync(join(dir, '000001700000001-0-cccccccc.jsonl'), `${JSON.stringify(deleted('zero'))}\n`);
    const { recovered } = PendingJournal.open(dir, capturingLogger().log);
    expect(recovered.map(({ record }) => record.callId)).toEqual(['mine', 'zero', 'legacy']);
  });

  it('leaves alone a segment whose owner is another running process', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    const name = `000001700000000-${process.ppid}-aaaaaaaa.jsonl`;
    writeFileSync(join(dir, name), `${JSON.stringify(deleted('theirs'))}\n`);
    const { log, lines } = capturingLogger();
    const { recovered } = PendingJournal.open(dir, log);
    expect(recovered).toEqual([]);
    expect(lines().filter((line) => line.event === 'memory.journal_live_owner'))
      .toMatchObject([{ level: 'warn', file: name, pid: process.ppid, msg: 'segment of a running process left alone' }]);
    expect(lines().some((line) => line.event === 'memory.journal_recovered')).toBe(false);
    expect(segments(dir)).toEqual([name]);
  });

  it('sets aside a torn line and a line that is not a record, naming the line and the reason, and re-queues the rest', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    const name = `000001700000000-${DEAD_PID}-aaaaaaaa.jsonl`;
    const wrong = JSON.stringify({ kind: 'message', callId: 'c1', message: { seq: 0, ts: 1, role: 'caller', content: [] } });
    writeFileSync(join(dir, name), `${JSON.stringify(deleted('kept'))}\n${wrong}\n{"kind":"mess`);
    const { log, lines } = capturingLogger();
    const { recovered } = PendingJournal.open(dir, log);
    expect(recovered.map(({ record }) => record)).toEqual([deleted('kept')]);
    expect(recovered[0]!.segment.outstanding).toBe(1);
    const malformed = lines().filter((line) => line.event === 'memory.journal_malformed');
    expect(malformed.map(({ file, line, reason }) => ({ file, line, reason }))).toEqual([
      { file: name, line: 2, reason: 'message.seq: Too small: expected number to be >=1; message.role: Invalid option: expected one of "user"|"assistant"' },
      { file: name, line: 3, reason: expect.stringMatching(/^not JSON: /) },
    ]);
    expect(readFileSync(join(dir, QUARANTINE_DIR, name), 'utf8')).toBe(`${wrong}\n{"kind":"mess\n`);
    expect(lines().filter((line) => line.event === 'memory.journal_quarantined'))
      .toMatchObject([{ level: 'warn', records: 2, dir: join(dir, QUARANTINE_DIR), msg: 'journal lines that are not records were set aside' }]);
  });

  it('names a line that is no record at all as (record), and deletes a segment with nothing to re-queue', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    const name = `000001700000000-${DEAD_PID}-aaaaaaaa.jsonl`;
    writeFileSync(join(dir, name), '[1]\n');
    const { log, lines } = capturingLogger();
    const { recovered } = PendingJournal.open(dir, log);
    expect(recovered).toEqual([]);
    expect(lines().find((line) => line.event === 'memory.journal_malformed')?.reason).toMatch(/^\(record\): /);
    expect(segments(dir)).toEqual([]);
    expect(lines().some((line) => line.event === 'memory.journal_recovered')).toBe(false);
  });

  it('logs when a line cannot be set aside, and still opens', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, QUARANTINE_DIR), 'a file where the quarantine directory would be');
    const name = `000001700000000-${DEAD_PID}-aaaaaaaa.jsonl`;
    writeFileSync(join(dir, name), 'torn\n');
    const { log, lines } = capturingLogger();
    expect(PendingJournal.open(dir, log).recovered).toEqual([]);
    expect(lines().filter((line) => line.event === 'memory.journal_quarantine_failed')).toMatchObject([{ level: 'error', file: name }]);
  });

  it('reports a failing file system once, keeps counting, and heals on the next append that works', () => {
    const dir = journalDir();
    const { log, lines } = capturingLogger();
    const { journal } = PendingJournal.open(dir, log);
    rmSync(dir, { recursive: true });
    expect(journal.append([deleted('a')])).toBeUndefined();
    expect(journal.failing()).toMatch(/^append: ENOENT: no such file or directory, open '/);
    expect(journal.append([deleted('b')])).toBeUndefined();
    expect(journal.errors()).toBe(2);
    expect(lines().filter((line) => line.event === 'memory.journal_failed'))
      .toMatchObject([{ level: 'error', operation: 'append', dir, msg: 'queued writes are in memory only until DynamoDB has them: a crash now loses them' }]);

    mkdirSync(dir, { recursive: true });
    const segment = journal.append([deleted('c')])!;
    expect(linesOf(segment.path)).toEqual([deleted('c')]);
    expect(journal.failing()).toBeUndefined();
    expect(journal.errors()).toBe(2);
    expect(lines().filter((line) => line.event === 'memory.journal_recovered_from_failure'))
      .toMatchObject([{ level: 'info', previous: expect.stringMatching(/^append: ENOENT/) }]);
  });

  it('starts a fresh segment after a failure even while one is open', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    const left = join(dir, `000001700000000-${DEAD_PID}-aaaaaaaa.jsonl`);
    writeFileSync(left, `${JSON.stringify(deleted('left'))}\n`);
    const { log, lines } = capturingLogger();
    const { journal, recovered } = PendingJournal.open(dir, log);
    const first = journal.append([deleted('a')])!;
    // A directory where the confirmed segment was: deleting it fails with something other than ENOENT.
    rmSync(left);
    mkdirSync(left);
    journal.confirm(recovered[0]!.segment);
    expect(journal.failing()).toMatch(/^delete: /);
    expect(journal.errors()).toBe(1);
    expect(lines().filter((line) => line.event === 'memory.journal_failed')).toMatchObject([{ operation: 'delete' }]);
    const second = journal.append([deleted('b')])!;
    expect(second).not.toBe(first);
    expect(first.sealed).toBe(true);
    expect(journal.failing()).toBeUndefined();
  });

  it('ignores a segment already deleted by another process', () => {
    const dir = journalDir();
    mkdirSync(dir, { recursive: true });
    const left = join(dir, `000001700000000-${DEAD_PID}-aaaaaaaa.jsonl`);
    writeFileSync(left, `${JSON.stringify(deleted('left'))}\n`);
    const { journal, recovered } = PendingJournal.open(dir, capturingLogger().log);
    rmSync(left);
    journal.confirm(recovered[0]!.segment);
    expect(journal.errors()).toBe(0);
    expect(journal.failing()).toBeUndefined();
  });
});
