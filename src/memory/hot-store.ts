import type { ChatMessage } from '../llm/messages.js';
import type { StoredMessage } from './store.js';

/** What a hot window read returns: the messages plus the call's newest seq, to detect gaps at the end. */
export interface WindowRead {
  messages: StoredMessage[];
  /** The newest seq this store has issued for the call; 0 when it knows none. */
  lastSeq: number;
}

/**
 * The fast per-call state: a bounded, expiring window of recent messages, the seq counter and the
 * latest snapshot. Implemented by Redis (shared by nodes) and by an in-process LRU (single node).
 */
export interface HotStore {
  readonly kind: 'redis' | 'memory';
  /**
   * Appends `messages` in order with the next seqs, the first never below `seqFloor + 1`, in one
   * round trip (a turn's messages together).
   */
  append(callId: string, messages: readonly ChatMessage[], ts: number, seqFloor: number): Promise<StoredMessage[]>;
  /** The newest `lastN` messages, oldest first; malformed entries are skipped. */
  window(callId: string, lastN: number): Promise<WindowRead>;
  /** Replaces the window with `messages` (chronological), read back from durable history. */
  rewarm(callId: string, messages: StoredMessage[]): Promise<void>;
  saveSnapshot(callId: string, json: string): Promise<void>;
  loadSnapshot(callId: string): Promise<string | undefined>;
  dropSnapshot(callId: string): Promise<void>;
  /** Stores the call's grant only when it has none (one atomic step); false when it had one. */
  claimGrant(callId: string, json: string): Promise<boolean>;
  saveGrant(callId: string, json: string): Promise<void>;
  loadGrant(callId: string): Promise<string | undefined>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface HotStoreOptions {
  windowMessages: number;
  ttlSeconds: number;
}
