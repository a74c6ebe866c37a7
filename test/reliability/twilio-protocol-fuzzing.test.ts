import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replaySeed, TEST_SEED } from '../support/test-seed.js';
import { startTwilioRig, until, type TwilioRig } from '../telephony/twilio-fixture.js';

const HOURS = 'We are open Monday to Friday from 8 to 6.';
const MESSAGES = 600;
let rig: TwilioRig;

beforeAll(async () => {
  rig = await startTwilioRig({ script: { ttftMs: { min: 5, max: 10 }, rules: [{ when: 'hours', reply: HOURS }, { reply: 'Sure.' }] } });
});

afterAll(async () => {
  await rig?.close();
});

type Hostile = { kind: string; counted: string; message: (streamSid: string) => string | Buffer };

/** Each kind of bad Twilio input, and the refusal it is counted under (docs/twilio.md, "Bad input"). */
const KINDS: Hostile[] = [
  { kind: 'payload-not-base64', counted: 'bad_media', message: (sid) => JSON.stringify({ event: 'media', streamSid: sid, media: { payload: '$$$$' } }) },
  { kind: 'payload-not-160-bytes', counted: 'bad_media', message: (sid) => JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.alloc(161).toString('base64') } }) },
  { kind: 'payload-url-safe-base64', counted: 'bad_media', message: (sid) => JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.alloc(160, 0xfb).toString('base64url') } }) },
  // Audio of the agent's own track: taken for the caller's, the agent would hear itself.
  { kind: 'outbound-track', counted: 'other_track', message: (sid) => JSON.stringify({ event: 'media', streamSid: sid, media: { track: 'outbound', payload: Buffer.alloc(160, 0x80).toString('base64') } }) },
  { kind: 'dtmf-pause-digit', counted: 'bad_dtmf', message: (sid) => JSON.stringify({ event: 'dtmf', streamSid: sid, dtmf: { digit: 'w' } }) },
  { kind: 'unknown-event', counted: 'unknown_event', message: (sid) => JSON.stringify({ event: 'dance', streamSid: sid }) },
  { kind: 'no-event', counted: 'unknown_event', message: (sid) => JSON.stringify({ streamSid: sid }) },
  { kind: 'mark-never-sent', counted: 'unknown_mark', message: (sid) => JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'ghost' } }) },
  { kind: 'bad-dtmf', counted: 'bad_dtmf', message: (sid) => JSON.stringify({ event: 'dtmf', streamSid: sid, dtmf: { digit: 'Z' } }) },
  { kind: 'wrong-stream', counted: 'wrong_stream', message: () => JSON.stringify({ event: 'media', streamSid: 'MZ00', media: { payload: Buffer.alloc(160, 0xff).toString('base64') } }) },
  { kind: 'media-without-media', counted: 'bad_message', message: (sid) => JSON.stringify({ event: 'media', streamSid: sid }) },
  { kind: 'not-json', counted: 'bad_json', message: () => '{"event":' },
  { kind: 'binary', counted: 'binary_frame', message: () => Buffer.from([0xde, 0xad]) },
  { kind: 'second-start', counted: 'already_started', message: (sid) => JSON.stringify({ event: 'start', streamSid: sid, start: { streamSid: sid, accountSid: 'AC0', callSid: `CA${'0'.repeat(32)}`, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }) },
];

async function refusals(): Promise<Record<string, number>> {
  const metric = await rig.node.node.metrics.protocolErrors.get();
  return Object.fromEntries(metric.values.map((value) => [String(value.labels.code), value.value]));
}

describe('protocol fuzzing of /twilio/media', () => {
  it(`ignores and counts ${MESSAGES} hostile messages by kind, while the call and a concurrent one go on`, async () => {
    const before = await refusals();
    const fuzzed = rig.call();
    const bystander = rig.call();
    const [line, other] = await Promise.all([fuzzed.nextLine(), bystander.nextLine()]);
    const picks = fc.sample(fc.constantFrom(...KINDS), { numRuns: MESSAGES, seed: TEST_SEED });
    const expected: Record<string, number> = {};
    for (const pick of picks) {
      const message = pick.message(line.streamSid);
      line.sendRaw(message, Buffer.isBuffer(message));
      expected[`twilio_${pick.counted}`] = (expected[`twilio_${pick.counted}`] ?? 0) + 1;
    }
    line.speak('What are your hours?');
    other.speak('What are your hours?');
    await until(() => line.heard.length >= 1 && other.heard.length >= 1, 30_000, 'both calls were answered');
    expect(line.heard, replaySeed).toEqual([HOURS]);
    expect(other.heard, replaySeed).toEqual([HOURS]);
    const after = await refusals();
    const grown = Object.fromEntries(Object.keys(expected).map((code) => [code, (after[code] ?? 0) - (before[code] ?? 0)]));
    expect(grown, replaySeed).toEqual(expected);
    fuzzed.hangup();
    bystander.hangup();
    await Promise.all([fuzzed.ended, bystander.ended]);
    await until(() => rig.node.node.calls.active() === 0, 5_000, 'both calls ended');
  });
});
