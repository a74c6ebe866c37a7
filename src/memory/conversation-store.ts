import { gzipSync } from 'node:zlib';
import { LRUCache } from 'lru-cache';
import type { ChatMessage } from '../llm/messages.js';
import type { Logger } from '../log.js';
import type { DurableHistory } from './dynamo-history.js';
import type { HotStore } from './hot-store.js';
import { isCompleteWindow, parseCallGrant, type DurableRecord } from './records.js';
import type { CallGrant, CallSummary, ConversationStore, StoredMessage } from './store.js';
import type { WriteBehindQueue } from './write-behind.js';
import { parseMessages, stringifyMessages } from '../llm/message-json.js';

export interface MemoryStats {
  /** Hot-store operations that failed and were served another way. */
  hotErrors: number;
  /** Context reads answered by the hot window. */
  hotHits: number;
  /** Context reads answered from DynamoDB plus the queue. */
  durableReads: number;
}

export interface ConversationStoreParts {
  hot: HotStore;
  durable: DurableHistory | undefined;
  writer: WriteBehindQueue | undefined;
  windowMessages: number;
  ttlSeconds: number;
  log: Logger;
}

/** Calls whose newest seq this process remembers. */
const KNOWN_CALLS = 100_000;
/** DynamoDB refuses items over 400 KB; the call record item holds little besides it. */
const MAX_RECORD_GZ_BYTES = 350_000;
/** How long `close` keeps trying to flush before leaving the rest in the journal. */
const CLOSE_FLUSH_MS = 8_000;
/**
 * How long a new call's start waits for DynamoDB to say whether its id was used before. Past it
 * (DynamoDB away or stalled) the start is checked against the hot store and the queue only, and
 * logged: a call must not wait for a backend it does not need to answer.
 */
const DURABLE_ID_CHECK_MS = 500;
const ENDED: CallGrant = { state: 'ended' };

/**
 * Conversation memory: the hot window first, DynamoDB (merged with what is still queued for it)
 * when the window cannot answer, and re-warming the window from what was read. A failing hot store
 * never fails a call: the operation is logged, counted and served from durable history, and the call
 * is read from there until a read has re-warmed it.
 */
export function createConversationStore(parts: ConversationStoreParts): ConversationStore & { stats(): MemoryStats } {
  const { hot, durable, writer, log } = parts;
  const stats: MemoryStats = { hotErrors: 0, hotHits: 0, durableReads: 0 };
  /** The newest seq issued or seen per call: the floor for the next one, whatever answers. */
  const knownSeq = new LRUCache<string, number>({ max: KNOWN_CALLS, ttl: parts.ttlSeconds * 1000 });
  const seqLookups = new Map<string, Promise<void>>();
  /** Calls with messages the hot window missed while it failed: read from durable until re-warmed. */
  const stale = new Set<string>();

  const observe = (callId: string, seq: number) => {
    if (seq > (knownSeq.get(callId) ?? 0)) knownSeq.set(callId, seq);
  };

  const hotFailed = (operation: string, callId: string, error: unknown) => {
    stats.hotErrors += 1;
    log.warn({ event: 'memory.hot_degraded', callId, operation, hot: hot.kind, error: (error as Error).message, hotErrors: stats.hotErrors });
  };

  /** A stored JSON value read back; a malformed one is logged and read as absent. */
  const parseStored = (json: string, callId: string, source: string): unknown => {
    try {
      return parseMessages(json);
    } catch (error) {
      log.warn({ event: 'memory.malformed_entry', callId, source, reason: (error as Error).message });
      return undefined;
    }
  };

  const enqueue = async (...records: DurableRecord[]) => {
    if (writer) await writer.enqueue(...records);
  };

  /** Newest `lastN` from DynamoDB and the queue together, deduplicated by seq. */
  async function durableContext(callId: string, lastN: number): Promise<StoredMessage[]> {
    stats.durableReads += 1;
    const bySeq = new Map<number, StoredMessage>();
    for (const message of (await durable?.lastMessages(callId, lastN)) ?? []) bySeq.set(message.seq, message);
    for (const record of writer?.pendingFor(callId) ?? []) {
      if (record.kind === 'message') bySeq.set(record.message.seq, record.message);
    }
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-Math.max(lastN, 0));
  }

  /** Makes sure the seq floor for a call this process has not seen accounts for its durable history. */
  async function learnSeq(callId: string): Promise<void> {
    if (knownSeq.has(callId)) return;
    let lookup = seqLookups.get(callId);
    if (!lookup) {
      lookup = durableContext(callId, 1)
        .then((last) => observe(callId, last.at(-1)?.seq ?? 0))
        // DynamoDB being away must not cost a call its words: the hot window numbers them meanwhile,
        // and the lookup is tried again on the next message (test/reliability/fault-injection.test.ts).
        .catch((error: Error) => log.warn({ event: 'memory.seq_lookup_failed', callId, error: error.message }))
        .finally(() => seqLookups.delete(callId));
      seqLookups.set(callId, lookup);
    }
    await lookup;
  }

  /**
   * Whether the hot window, the queue or DynamoDB hold anything of this call id: `unchecked` when
   * a store could not answer, which a start treats as unused but a seq floor may not.
   */
  async function usedBefore(callId: string): Promise<'used' | 'unused' | 'unchecked'> {
    let verdict: 'unused' | 'unchecked' = 'unused';
    try {
      if ((await hot.window(callId, 1)).lastSeq > 0) return 'used';
    } catch (error) {
      hotFailed('window', callId, error);
      verdict = 'unchecked';
    }
    if ((writer?.pendingFor(callId).length ?? 0) > 0) return 'used';
    if (!durable) return verdict;
    try {
      return await durable.known(callId, AbortSignal.timeout(DURABLE_ID_CHECK_MS)) ? 'used' : verdict;
    } catch (error) {
      log.warn({ event: 'memory.call_id_unchecked', callId, error: (error as Error).message });
      return 'unchecked';
    }
  }

  async function rememberAll(callId: string, messages: readonly ChatMessage[]): Promise<StoredMessage[]> {
    if (messages.length === 0) return [];
    await learnSeq(callId);
    const ts = Date.now();
    let stored: StoredMessage[];
    try {
      stored = await hot.append(callId, messages, ts, knownSeq.get(callId) ?? 0);
    } catch (error) {
      hotFailed('remember', callId, error);
      stale.add(callId);
      // Assigned synchronously after the last await, so concurrent degraded appends stay distinct.
      const first = (knownSeq.get(callId) ?? 0) + 1;
      stored = messages.map((message, index) => ({ seq: first + index, ts, role: message.role, content: message.content }));
    }
    observe(callId, stored.at(-1)!.seq);
    await enqueue(...stored.map((message): DurableRecord => ({ kind: 'message', callId, message })));
    return stored;
  }

  return {
    async remember(callId: string, message: ChatMessage): Promise<StoredMessage> {
      const [stored] = await rememberAll(callId, [message]);
      return stored!;
    },

    rememberAll,

    async context(callId: string, lastN: number): Promise<StoredMessage[]> {
      if (lastN <= 0) return [];
      let hotRead: StoredMessage[] | undefined;
      if (!stale.has(callId)) {
        try {
          const read = await hot.window(callId, lastN);
          hotRead = read.messages;
          if (isCompleteWindow(read.messages, lastN, Math.max(read.lastSeq, knownSeq.get(callId) ?? 0))) {
            stats.hotHits += 1;
            observe(callId, read.lastSeq);
            return read.messages;
          }
        } catch (error) {
          hotFailed('context', callId, error);
        }
      }
      let messages: StoredMessage[];
      try {
        messages = await durableContext(callId, Math.max(lastN, parts.windowMessages));
      } catch (error) {
        if (hotRead === undefined) throw error;
        // DynamoDB is away: a turn answered from what the hot window holds beats a failed turn
        // (a new call's first turn has nothing to read anyway; test/reliability/fault-injection.test.ts).
        log.warn({ event: 'memory.durable_read_failed', callId, error: (error as Error).message });
        return hotRead.slice(-lastN);
      }
      observe(callId, messages.at(-1)?.seq ?? 0);
      if (messages.length > 0) {
        try {
          await hot.rewarm(callId, messages);
          stale.delete(callId);
        } catch (error) {
          hotFailed('rewarm', callId, error);
        }
      } else {
        stale.delete(callId);
      }
      return messages.slice(-lastN);
    },

    async saveSnapshot(callId: string, snapshot: unknown): Promise<void> {
      const snapshotJson = stringifyMessages(snapshot);
      try {
        await hot.saveSnapshot(callId, snapshotJson);
      } catch (error) {
        hotFailed('saveSnapshot', callId, error);
      }
      const ts = Date.now();
      await enqueue({ kind: 'snapshot', callId, snapshotJson, ts, expiresAtSeconds: Math.ceil(ts / 1000) + parts.ttlSeconds });
    },

    async loadSnapshot(callId: string): Promise<unknown | undefined> {
      let json: string | undefined;
      try {
        json = await hot.loadSnapshot(callId);
      } catch (error) {
        hotFailed('loadSnapshot', callId, error);
      }
      if (json === undefined) {
        const pending = writer?.pendingFor(callId).filter((r) => r.kind === 'snapshot' || r.kind === 'snapshot-delete').at(-1);
        if (pending?.kind === 'snapshot-delete') return undefined;
        json = pending?.kind === 'snapshot' ? pending.snapshotJson : await durable?.snapshot(callId);
      }
      return json === undefined ? undefined : parseStored(json, callId, 'snapshot');
    },

    async endCall(callId: string, summary: CallSummary): Promise<void> {
      try {
        await hot.dropSnapshot(callId);
      } catch (error) {
        hotFailed('endCall', callId, error);
      }
      // The window expires on its own TTL; the history and the summary stay in DynamoDB.
      await enqueue({ kind: 'snapshot-delete', callId }, { kind: 'summary', callId, summary });
    },

    async claimCall(callId: string, grant: CallGrant, options: { generatedId?: boolean } = {}): Promise<boolean> {
      const verdict = options.generatedId ? 'unused' : await usedBefore(callId);
      if (verdict === 'used') return false;
      const grantJson = JSON.stringify(grant);
      let claimed = true;
      try {
        claimed = await hot.claimGrant(callId, grantJson);
      } catch (error) {
        hotFailed('claimGrant', callId, error);
      }
      if (!claimed) return false;
      // A call proved new has no history: its first message needs no DynamoDB query for the seq
      // floor (learnSeq). That query was one of a new call's two DynamoDB reads, and DynamoDB
      // requests (client and the embedded dynalite) were ~40 % of serve's CPU per faq turn.
      if (verdict === 'unused' && !knownSeq.has(callId)) knownSeq.set(callId, 0);
      await enqueue({ kind: 'grant', callId, grantJson });
      return true;
    },

    async loadGrant(callId: string): Promise<CallGrant | undefined> {
      let hotJson: string | undefined;
      try {
        hotJson = await hot.loadGrant(callId);
      } catch (error) {
        hotFailed('loadGrant', callId, error);
      }
      const pending = writer?.pendingFor(callId).filter((record) => record.kind === 'grant').at(-1);
      const known = [hotJson, pending?.grantJson].filter((json) => json !== undefined).map(parseCallGrant);
      if (known.some((grant) => grant.state === 'ended')) return ENDED;
      // DynamoDB is read even when the hot store answers: an `ended` written while Redis failed is only there.
      let durableJson: string | undefined;
      try {
        durableJson = await durable?.grant(callId);
      } catch (error) {
        if (known.length === 0) throw error;
        log.warn({ event: 'memory.durable_read_failed', callId, error: (error as Error).message });
      }
      if (durableJson !== undefined) known.push(parseCallGrant(durableJson));
      if (known.some((grant) => grant.state === 'ended')) return ENDED;
      return known[0];
    },

    async markEnded(callId: string): Promise<void> {
      const grantJson = JSON.stringify(ENDED);
      try {
        await hot.saveGrant(callId, grantJson);
      } catch (error) {
        hotFailed('markEnded', callId, error);
      }
      await enqueue({ kind: 'grant', callId, grantJson });
    },

    async saveCallRecord(callId: string, record: unknown): Promise<void> {
      const recordJson = stringifyMessages(record);
      // Gzipped in the item; a record too large even then is logged and skipped rather than retried forever.
      if (Buffer.byteLength(recordJson) > MAX_RECORD_GZ_BYTES && gzipSync(recordJson).length > MAX_RECORD_GZ_BYTES) {
        log.warn({ event: 'memory.call_record_too_large', callId, bytes: recordJson.length });
        return;
      }
      await enqueue({ kind: 'call-record', callId, recordJson });
    },

    async loadCallRecord(callId: string): Promise<unknown | undefined> {
      const pending = writer?.pendingFor(callId).findLast((record) => record.kind === 'call-record');
      const json = pending?.kind === 'call-record' ? pending.recordJson : await durable?.callRecord(callId);
      return json === undefined ? undefined : parseStored(json, callId, 'call-record');
    },

    async healthy(): Promise<boolean> {
      const [hotOk, durableOk] = await Promise.all([hot.ping(), durable ? durable.ping() : Promise.resolve(true)]);
      // A failing journal keeps calls up but must take the node out of rotation: what it accepts
      // now is in memory only (test/reliability/journal-failure-degrades.test.ts).
      return hotOk && durableOk && writer?.journalFailure() === undefined;
    },

    async close(): Promise<void> {
      await writer?.close(CLOSE_FLUSH_MS);
      await hot.close();
      durable?.close();
    },

    stats: () => ({ ...stats }),
  };
}
