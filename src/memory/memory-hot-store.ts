import { LRUCache } from 'lru-cache';
import type { ChatMessage } from '../llm/messages.js';
import type { HotStore, HotStoreOptions, WindowRead } from './hot-store.js';
import type { StoredMessage } from './store.js';

interface CallWindow {
  lastSeq: number;
  messages: StoredMessage[];
}

/** Calls held at once before the least recently used one is evicted (its history stays durable). */
const MAX_CALLS = 50_000;

/**
 * The hot window in process memory, for a single node without Redis. Everything is synchronous
 * inside, so concurrent appends to one call get distinct, increasing seqs.
 */
export function createMemoryHotStore(options: HotStoreOptions): HotStore {
  const ttl = options.ttlSeconds * 1000;
  const windows = new LRUCache<string, CallWindow>({ max: MAX_CALLS, ttl });
  const snapshots = new LRUCache<string, string>({ max: MAX_CALLS, ttl });
  const grants = new LRUCache<string, string>({ max: MAX_CALLS, ttl });

  return {
    kind: 'memory',
    async append(callId: string, messages: readonly ChatMessage[], ts: number, seqFloor: number): Promise<StoredMessage[]> {
      if (messages.length === 0) return [];
      const window = windows.get(callId) ?? { lastSeq: 0, messages: [] };
      const first = Math.max(window.lastSeq, seqFloor) + 1;
      const stored = messages.map((message, index): StoredMessage => ({ seq: first + index, ts, role: message.role, content: message.content }));
      window.lastSeq = first + messages.length - 1;
      window.messages.push(...stored);
      if (window.messages.length > options.windowMessages) window.messages.splice(0, window.messages.length - options.windowMessages);
      windows.set(callId, window);
      return stored;
    },
    async window(callId: string, lastN: number): Promise<WindowRead> {
      const window = windows.get(callId);
      if (!window) return { messages: [], lastSeq: 0 };
      return { messages: lastN > 0 ? window.messages.slice(-lastN) : [], lastSeq: window.lastSeq };
    },
    async rewarm(callId: string, messages: StoredMessage[]): Promise<void> {
      const current = windows.get(callId);
      const lastSeq = Math.max(current?.lastSeq ?? 0, messages.at(-1)?.seq ?? 0);
      windows.set(callId, { lastSeq, messages: messages.slice(-options.windowMessages) });
    },
    async saveSnapshot(callId: string, json: string): Promise<void> {
      snapshots.set(callId, json);
    },
    async loadSnapshot(callId: string): Promise<string | undefined> {
      return snapshots.get(callId);
    },
    async dropSnapshot(callId: string): Promise<void> {
      snapshots.delete(callId);
    },
    async claimGrant(callId: string, json: string): Promise<boolean> {
      if (grants.has(callId)) return false;
      grants.set(callId, json);
      return true;
    },
    async saveGrant(callId: string, json: string): Promise<void> {
      grants.set(callId, json);
    },
    async loadGrant(callId: string): Promise<string | undefined> {
      return grants.get(callId);
    },
    async ping(): Promise<boolean> {
      return true;
    },
    async close(): Promise<void> {
      windows.clear();
      snapshots.clear();
      grants.clear();
    },
  };
}
