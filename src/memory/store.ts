import type { ChatMessage } from '../llm/messages.js';

/** One message of a call's history as stored: the message plus its position and time. */
export interface StoredMessage extends ChatMessage {
  /** Monotonic per call, from 1; the DynamoDB sort key, so two messages in one millisecond never collide. */
  seq: number;
  /** Epoch milliseconds when the runtime recorded it. */
  ts: number;
}

export interface CallSummary {
  callId: string;
  agent: string;
  from?: string;
  to?: string;
  startedAt: number;
  endedAt: number;
  outcome: 'completed' | 'hangup' | 'transferred' | 'dropped' | 'error' | 'budget' | 'idle' | 'shutdown';
  turns: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * Who may resume a call: the sha256 (hex) of the resume token its first connection got in `ready`
 * and the principal (a hash of the API key, or `loopback`) that started it; `ended` once the call
 * ended, for ever, so neither a resume nor a new `start` with its id is ever taken again.
 */
export type CallGrant =
  | { state: 'open'; tokenSha256: string; principal: string }
  | { state: 'ended' };

/**
 * What the call actor needs of conversation memory. `remember` resolves once the message is safe in
 * the hot window and queued for durable storage; it never waits for DynamoDB.
 */
export interface ConversationStore {
  remember(callId: string, message: ChatMessage): Promise<StoredMessage>;
  /** `remember` for several messages in order (a turn's), in one hot-store round trip and one journal write. */
  rememberAll(callId: string, messages: readonly ChatMessage[]): Promise<StoredMessage[]>;
  /** The newest `lastN` messages, oldest first. */
  context(callId: string, lastN: number): Promise<StoredMessage[]>;
  saveSnapshot(callId: string, snapshot: unknown): Promise<void>;
  loadSnapshot(callId: string): Promise<unknown | undefined>;
  endCall(callId: string, summary: CallSummary): Promise<void>;
  /**
   * Stores the grant of a new call, unless its id is or was in use anywhere memory can see (a grant,
   * messages, a snapshot or a summary): then false and nothing is written. A `generatedId` (a
   * random UUID the runtime made) cannot have been used, and is not looked up.
   */
  claimCall(callId: string, grant: CallGrant, options?: { generatedId?: boolean }): Promise<boolean>;
  loadGrant(callId: string): Promise<CallGrant | undefined>;
  /** Replaces the call's grant with `ended`: no resume and no new start of this id is taken again. */
  markEnded(callId: string): Promise<void>;
  /** Keeps an ended call's record (JSON) beside its history, for as long as the history is kept. */
  saveCallRecord(callId: string, record: unknown): Promise<void>;
  loadCallRecord(callId: string): Promise<unknown | undefined>;
  /** True when every backend answers; for `/readyz`. */
  healthy(): Promise<boolean>;
  /** Flushes queued durable writes, then closes connections. */
  close(): Promise<void>;
}
