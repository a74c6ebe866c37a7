import { z } from 'zod';
import type { ChatMessage } from '../llm/messages.js';
import type { CallGrant, CallSummary, StoredMessage } from './store.js';
import { parseMessages, stringifyMessages } from '../llm/message-json.js';

/**
 * What the write-behind queue carries to DynamoDB. Snapshots and summaries live beside the messages
 * of their call under reserved sort keys, so one Query by call id finds everything about it.
 */
export type DurableRecord =
  | { kind: 'message'; callId: string; message: StoredMessage }
  | { kind: 'snapshot'; callId: string; snapshotJson: string; ts: number; expiresAtSeconds: number }
  | { kind: 'snapshot-delete'; callId: string }
  | { kind: 'summary'; callId: string; summary: CallSummary }
  | { kind: 'grant'; callId: string; grantJson: string }
  /** The call's record as `GET /v1/calls/{id}` serves it once the call has ended (src/records/). */
  | { kind: 'call-record'; callId: string; recordJson: string };

const storedMessageSchema = z.object({
  seq: z.number().int().min(1),
  ts: z.number(),
  role: z.enum(['user', 'assistant']),
  content: z.array(z.record(z.string(), z.unknown())),
});

const summarySchema = z.object({
  callId: z.string(),
  agent: z.string(),
  from: z.string().optional(),
  to: z.string().optional(),
  startedAt: z.number(),
  endedAt: z.number(),
  outcome: z.enum(['completed', 'hangup', 'transferred', 'dropped', 'error', 'budget', 'idle', 'shutdown']),
  turns: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  costUsd: z.number(),
});

/** What a journal line must be to be re-queued: anything else would fail in DynamoDB or be retried forever. */
export const durableRecordSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('message'), callId: z.string().min(1), message: storedMessageSchema }),
  z.object({ kind: z.literal('snapshot'), callId: z.string().min(1), snapshotJson: z.string(), ts: z.number(), expiresAtSeconds: z.number() }),
  z.object({ kind: z.literal('snapshot-delete'), callId: z.string().min(1) }),
  z.object({ kind: z.literal('summary'), callId: z.string().min(1), summary: summarySchema }),
  z.object({ kind: z.literal('grant'), callId: z.string().min(1), grantJson: z.string() }),
  z.object({ kind: z.literal('call-record'), callId: z.string().min(1), recordJson: z.string() }),
]);

const callGrantSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('open'), tokenSha256: z.string().regex(/^[0-9a-f]{64}$/), principal: z.string().min(1) }),
  z.object({ state: z.literal('ended') }),
]);

/** A stored grant read back; a malformed one reads as `ended`, so it never lets a resume or a start through. */
export function parseCallGrant(json: string): CallGrant {
  try {
    const parsed = callGrantSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : { state: 'ended' };
  } catch {
    return { state: 'ended' };
  }
}

/** Sort keys below 1 are reserved: messages count from 1. */
export const GRANT_SEQ = -2;
export const SNAPSHOT_SEQ = -1;
export const SUMMARY_SEQ = 0;
export const CALL_RECORD_SEQ = -3;

export function recordSeq(record: DurableRecord): number {
  switch (record.kind) {
    case 'message': return record.message.seq;
    case 'snapshot':
    case 'snapshot-delete': return SNAPSHOT_SEQ;
    case 'summary': return SUMMARY_SEQ;
    case 'grant': return GRANT_SEQ;
    case 'call-record': return CALL_RECORD_SEQ;
  }
}

/** One DynamoDB item per key: a later record for the same key supersedes an earlier one. */
export const recordKey = (record: DurableRecord): string => `${record.callId}\u0000${recordSeq(record)}`;

/** The JSON a hot window stores for a message, `seq` first so a Redis script can prepend it. */
export const messageBody = (message: ChatMessage, ts: number): string =>
  stringifyMessages({ ts, role: message.role, content: message.content });

/**
 * Checks a stored message read back from Redis, a journal or DynamoDB. Returns a reason instead of
 * throwing so one corrupt entry costs one message, not the call.
 */
export function toStoredMessage(value: unknown): StoredMessage | string {
  if (typeof value !== 'object' || value === null) return `expected an object, got ${typeof value}`;
  const candidate = value as Record<string, unknown>;
  if (typeof candidate.seq !== 'number' || !Number.isInteger(candidate.seq) || candidate.seq < 1) {
    return `seq: expected an integer >= 1, got ${String(candidate.seq)}`;
  }
  if (typeof candidate.ts !== 'number') return `ts: expected epoch milliseconds, got ${String(candidate.ts)}`;
  if (candidate.role !== 'user' && candidate.role !== 'assistant') return `role: expected user or assistant, got ${String(candidate.role)}`;
  if (!Array.isArray(candidate.content)) return 'content: expected an array of content blocks';
  return { seq: candidate.seq, ts: candidate.ts, role: candidate.role, content: candidate.content as ChatMessage['content'] };
}

/** Parses one stored JSON message, or returns why it cannot be used. */
export function parseStoredMessage(json: string): StoredMessage | string {
  let value: unknown;
  try {
    value = parseMessages(json);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  return toStoredMessage(value);
}

/**
 * True when `messages` (chronological) can answer a request for the newest `lastN` of a call whose
 * newest seq is `lastSeq`: no gap inside, none at the end, and either enough of them or the call's start.
 */
export function isCompleteWindow(messages: StoredMessage[], lastN: number, lastSeq: number): boolean {
  if (messages.length === 0) return false;
  for (let i = 1; i < messages.length; i += 1) {
    if (messages[i]!.seq !== messages[i - 1]!.seq + 1) return false;
  }
  if (messages[messages.length - 1]!.seq !== lastSeq) return false;
  return messages.length >= lastN || messages[0]!.seq === 1;
}
