import { describe, expect, it } from 'vitest';
import { mediaMessages, parseTwilioMessage } from '../../src/telephony/twilio/media-messages.js';

const SID = `MZ${'a'.repeat(32)}`;
const PAYLOAD = Buffer.alloc(160, 0xff).toString('base64');

describe('Twilio media messages', () => {
  it('takes a media message as Twilio sends it, extra fields and all', () => {
    const text = JSON.stringify({ event: 'media', sequenceNumber: '4', media: { track: 'inbound', chunk: '2', timestamp: '5', payload: PAYLOAD }, streamSid: SID });
    const parsed = parseTwilioMessage(text);
    expect(parsed.ok && parsed.message.event === 'media' && parsed.message.media.payload).toBe(PAYLOAD);
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
