import { describe, expect, it, vi } from 'vitest';
import { mediaMessages, parseTwilioMessage } from '../../src/telephony/twilio/media-messages.js';

const SID = `MZ${'a'.repeat(32)}`;
const PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');

describe('Twilio media messages', () => {
  it('takes a media message as Twilio sends it, extra fields and all', () => {
    const text = JSON.stringify({ event: 'media', sequenceNumber: '4', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: PAYLOAD }, streamSid: SID });
    const parsed = parseTwilioMessage(text);
    expect(parsed.ok && parsed.message.event === 'media' && parsed.message.media.payload).toBe(PAYLOAD);
  });

  it('reads Twilio\'s own media layout without JSON.parse', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const text = `{"event":"media","sequenceNumber":"7","media":{"track":"inbound","chunk":"6","timestamp":"112","payload":"${PAYLOAD}"},"streamSid":"${SID}"}`;
      expect(parseTwilioMessage(text)).toEqual({ ok: true, message: { event: 'media', streamSid: SID, media: { track: 'inbound', payload: PAYLOAD } } });
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('reads any media message as JSON.parse and the schema would, whatever its layout or escapes', () => {
    // What a consumer reads of a message, from JSON.parse and the schema's rules: the oracle.
    const expected = (text: string) => {
      let value: { event?: unknown; streamSid?: unknown; media?: { track?: unknown; payload?: unknown } };
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false };
      }
      const { streamSid, media } = value;
      const ok = value.event === 'media' && typeof streamSid === 'string' && streamSid.length >= 1 && streamSid.length <= 64
        && typeof media === 'object' && media !== null && !Array.isArray(media) && typeof media.payload === 'string'
        && (media.track === undefined || typeof media.track === 'string');
      return ok ? { ok, streamSid, track: media!.track, payload: media!.payload } : { ok: false };
    };
    const read = (text: string) => {
      const parsed = parseTwilioMessage(text);
      if (!parsed.ok || parsed.message.event !== 'media') return { ok: false };
      return { ok: true, streamSid: parsed.message.streamSid, track: parsed.message.media.track, payload: parsed.message.media.payload };
    };
    const strings = ['inbound', '', 'a\\"b', 'tab\\tx', 'é', 'caf\\u00e9', '\u2028', 'x'.repeat(64), 'x'.repeat(65), 'with "quote', 'back\\slash', 'control\u0001'];
    const digits = ['7', '', 'x', '0'.repeat(13), '-1'];
    let cases = 0;
    for (const sid of [SID, ...strings]) for (const track of strings) for (const payload of [PAYLOAD, ...strings.slice(0, 4)]) for (const n of digits) {
      const raw = `{"event":"media","sequenceNumber":"${n}","media":{"track":"${track}","chunk":"${n}","timestamp":"${n}","payload":"${payload}"},"streamSid":"${sid}"}`;
      for (const text of [raw, raw.replace('"media",', '"media", '), raw.replace('{"event":"media",', '{"streamSid":"other","event":"media",')]) {
        expect(read(text), text).toEqual(expected(text));
        cases += 1;
      }
    }
    expect(cases).toBeGreaterThan(10_000);
  });

  it('refuses a media message the schema refuses, with the schema\'s reason', () => {
    const cases: Array<[unknown, string]> = [
      [{ event: 'media', streamSid: SID }, 'media: media: '],
      [{ event: 'media', streamSid: SID, media: [] }, 'media: media: '],
      [{ event: 'media', streamSid: SID, media: { payload: 7 } }, 'media: media.payload: '],
      [{ event: 'media', streamSid: SID, media: { payload: PAYLOAD, track: 1 } }, 'media: media.track: '],
      [{ event: 'media', streamSid: '', media: { payload: PAYLOAD } }, 'media: streamSid: '],
      [{ event: 'media', streamSid: 'M'.repeat(65), media: { payload: PAYLOAD } }, 'media: streamSid: '],
      [{ event: 'media', media: { payload: PAYLOAD } }, 'media: streamSid: '],
    ];
    for (const [message, detail] of cases) {
      const parsed = parseTwilioMessage(JSON.stringify(message));
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.refusal).toBe('bad_message');
        expect(parsed.detail.startsWith(detail)).toBe(true);
      }
    }
  });

  it('writes the media message JSON.stringify would, for any streamSid', () => {
    const audio = new Uint8Array(Buffer.alloc(200, 0x12)).subarray(20, 180);
    for (const streamSid of [SID, 'quote " and \\ backslash', 'é\u2028']) {
      const expected = JSON.stringify({ event: 'media', streamSid, media: { payload: Buffer.from(audio).toString('base64') } });
      expect(mediaMessages(streamSid)(audio)).toBe(expected);
      expect(JSON.parse(mediaMessages(streamSid)(audio))).toEqual(JSON.parse(expected));
    }
  });
});
