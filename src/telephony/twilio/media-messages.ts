import { z } from 'zod';

/**
 * Twilio Media Streams messages, as Twilio documents them (docs/twilio.md). Every message is a
 * JSON text frame; numbers such as `sequenceNumber`, `chunk` and `timestamp` arrive as strings.
 * Objects are not strict: Twilio adds fields without notice.
 */
const streamSid = z.string().min(1).max(64);

const inboundSchemas = {
  connected: z.object({ event: z.literal('connected') }),
  start: z.object({
    event: z.literal('start'),
    streamSid,
    start: z.object({
      streamSid,
      accountSid: z.string().min(1).max(64),
      callSid: z.string().regex(/^CA[0-9a-fA-F]{32}$/, 'a Call SID: CA and 32 hex digits'),
      tracks: z.array(z.string()).optional(),
      customParameters: z.record(z.string(), z.string()).default({}),
      mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() }),
    }),
  }),
  media: z.object({
    event: z.literal('media'),
    streamSid,
    media: z.object({ track: z.string().optional(), payload: z.string() }),
  }),
  mark: z.object({ event: z.literal('mark'), streamSid, mark: z.object({ name: z.string().min(1) }) }),
  dtmf: z.object({ event: z.literal('dtmf'), streamSid, dtmf: z.object({ digit: z.string() }) }),
  stop: z.object({ event: z.literal('stop'), streamSid }),
} as const;

export type TwilioEvent = keyof typeof inboundSchemas;
export type TwilioMessage = { [K in TwilioEvent]: z.infer<(typeof inboundSchemas)[K]> }[TwilioEvent];

/** Why an inbound message was not used; each is counted under its name. */
export type TwilioRefusal = 'bad_json' | 'unknown_event' | 'bad_message' | 'binary_frame';

/**
 * A `media` message laid out as Twilio writes it (the recorded session of docs/twilio.md, and the
 * emulated Twilio): its fields in this order, no whitespace, and strings with nothing escaped (no
 * quote, backslash or control character), which read the same with or without JSON.parse. So what
 * this matches is what the schema path would take, field for field; any other layout goes through
 * JSON.parse. 50 of these arrive per second per call: read this way with the payload's decoding,
 * 1.9–2.6 µs against 3.5–3.8 µs per message (500,000 messages, loaded 2-core machine), where
 * JSON.parse was 6.8 % of serve's CPU at 500 Twilio calls.
 */
const TWILIO_MEDIA_LAYOUT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a JSON string holds no raw control character, so neither may a match
  /^\{"event":"media","sequenceNumber":"\d{1,12}","media":\{"track":"([^"\\\x00-\x1f]*)","chunk":"\d{1,12}","timestamp":"\d{1,15}","payload":"([^"\\\x00-\x1f]*)"\},"streamSid":"([^"\\\x00-\x1f]{1,64})"\}$/;

export function parseTwilioMessage(text: string): { ok: true; message: TwilioMessage } | { ok: false; refusal: TwilioRefusal; detail: string } {
  const laidOut = TWILIO_MEDIA_LAYOUT.exec(text);
  if (laidOut) return { ok: true, message: { event: 'media', streamSid: laidOut[3]!, media: { track: laidOut[1]!, payload: laidOut[2]! } } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, refusal: 'bad_json', detail: 'message is not valid JSON' };
  }
  const event = typeof value === 'object' && value !== null ? (value as { event?: unknown }).event : undefined;
  // 50 media messages a second per call: checked by hand, as the schema below would (zod was 1.9 %
  // of serve's CPU at 200 Twilio calls); anything else, or a media message that fails, goes through the schema.
  if (event === 'media' && isMediaMessage(value)) return { ok: true, message: value };
  if (typeof event !== 'string' || !Object.hasOwn(inboundSchemas, event)) {
    return { ok: false, refusal: 'unknown_event', detail: `unknown event ${JSON.stringify(String(event).slice(0, 32))}` };
  }
  const parsed = inboundSchemas[event as TwilioEvent].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, refusal: 'bad_message', detail: `${event}: ${issue?.path.join('.') || '(message)'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data as TwilioMessage };
}

type MediaMessage = Extract<TwilioMessage, { event: 'media' }>;

/** `inboundSchemas.media` by hand: what it accepts, less the unknown keys it would strip (nothing reads them). */
function isMediaMessage(value: unknown): value is MediaMessage {
  const { streamSid, media } = value as { streamSid?: unknown; media?: unknown };
  if (typeof streamSid !== 'string' || streamSid.length < 1 || streamSid.length > 64) return false;
  if (typeof media !== 'object' || media === null || Array.isArray(media)) return false;
  const { payload, track } = media as { payload?: unknown; track?: unknown };
  return typeof payload === 'string' && (track === undefined || typeof track === 'string');
}

/** Phone audio as Twilio sends and accepts it on a bidirectional stream. */
export const TWILIO_MEDIA_FORMAT = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } as const;
/** 20 ms of µ-law at 8 kHz: the size of every inbound media payload. */
export const TWILIO_FRAME_BYTES = 160;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A media payload's bytes, or undefined when it is not base64 of exactly one 20 ms frame. */
export function decodeMediaPayload(payload: string): Uint8Array | undefined {
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) return undefined;
  const bytes = Buffer.from(payload, 'base64');
  return bytes.length === TWILIO_FRAME_BYTES ? bytes : undefined;
}

/**
 * The `media` messages of one stream: `JSON.stringify` of `{ event, streamSid, media: { payload } }`,
 * with everything but the payload (base64, nothing to escape) built once per stream.
 */
export function mediaMessages(streamSid: string): (audio: Uint8Array) => string {
  const prefix = `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"`;
  return (audio) => `${prefix}${Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength).toString('base64')}"}}`;
}
export const markMessage = (streamSid: string, name: string): string => JSON.stringify({ event: 'mark', streamSid, mark: { name } });
export const clearMessage = (streamSid: string): string => JSON.stringify({ event: 'clear', streamSid });
