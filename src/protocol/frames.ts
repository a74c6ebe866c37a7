import { z } from 'zod';
import type { CallFrame } from '../call/ports.js';

/** The `aybiza.v1` protocol: frames the caller side sends, validated before they reach a call. */
export const PROTOCOL = 'aybiza.v1';

/** A call id as frames carry it; the call-records API holds its path to the same rule. */
export const callIdSchema = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const metadata = z.record(z.string(), z.unknown()).refine(
  (value) => jsonBytesAtMost(value, 4096),
  'metadata must be at most 4 KiB of JSON',
);

/** Deep nesting makes JSON.stringify overflow the stack: too deep is too large, not a crash. */
function jsonBytesAtMost(value: unknown, limit: number): boolean {
  try {
    return Buffer.byteLength(JSON.stringify(value)) <= limit;
  } catch {
    return false;
  }
}

/**
 * A call party as a gateway knows it: an E.164 number or a SIP URI. Anything else (free text, an
 * instruction aimed at the model) is refused here, before it reaches tools or the prompt.
 */
const party = z.string().max(256).regex(/^(\+[1-9]\d{6,14}|sips?:[^\s"'<>\\]{1,250})$/, 'an E.164 number such as +15551000000 or a SIP URI such as sip:alice@example.com');

export const inboundFrameSchemas = {
  start: z.strictObject({
    type: z.literal('start'),
    callId: callIdSchema.optional(),
    agent: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/).optional(),
    from: party.optional(),
    to: party.optional(),
    metadata: metadata.optional(),
    resume: z.boolean().optional(),
    /** The `resumeToken` of the call's `ready`; a resume without the right one is refused as `unknown_call`. */
    resumeToken: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'the resumeToken of the call\'s ready frame').optional(),
  }),
  transcript: z.strictObject({
    type: z.literal('transcript'),
    text: z.string(),
    final: z.boolean(),
    confidence: z.number().min(0).max(1).optional(),
  }),
  speech_started: z.strictObject({ type: z.literal('speech_started') }),
  played: z.strictObject({ type: z.literal('played'), id: z.string().min(1).max(64) }),
  dtmf: z.strictObject({ type: z.literal('dtmf'), digit: z.string().regex(/^[0-9*#A-D]$/, 'one of 0-9 * # A-D') }),
  hangup: z.strictObject({ type: z.literal('hangup'), reason: z.string().max(256).optional() }),
} as const;

export type InboundType = keyof typeof inboundFrameSchemas;
export type InboundFrame = { [K in InboundType]: z.infer<(typeof inboundFrameSchemas)[K]> }[InboundType];

export type ErrorCode =
  | 'bad_frame' | 'bad_message' | 'unknown_type' | 'not_started' | 'already_started' | 'too_large'
  | 'rate_limited' | 'unknown_call' | 'call_busy' | 'call_exists' | 'too_many_calls' | 'overloaded' | 'internal';

export type OutboundFrame =
  /** `resumeToken` is the call's secret: a later `start` with `resume: true` must present it. */
  | { type: 'ready'; callId: string; protocol: typeof PROTOCOL; resumed: boolean; resumeToken: string }
  | CallFrame
  | { type: 'error'; code: ErrorCode; message: string; fatal: boolean };

export class FrameError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

/**
 * Turns one text frame into a typed frame, or throws a FrameError naming what is wrong.
 * `transcript.text` is limited separately so the limit stays configurable.
 */
export function parseInboundFrame(raw: string, maxTranscriptChars: number): InboundFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new FrameError('bad_frame', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('bad_frame', 'frame must be a JSON object');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') throw new FrameError('bad_frame', 'frame has no string field "type"');
  if (!Object.hasOwn(inboundFrameSchemas, type)) {
    throw new FrameError('unknown_type', `unknown frame type "${type.slice(0, 64)}"`);
  }
  const parsed = inboundFrameSchemas[type as InboundType].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : '(frame)';
    throw new FrameError('bad_message', `${type}: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  const frame = parsed.data as InboundFrame;
  if (frame.type === 'transcript' && frame.text.length > maxTranscriptChars) {
    throw new FrameError('too_large', `transcript.text has ${frame.text.length} characters; the limit is ${maxTranscriptChars}`);
  }
  return frame;
}
