import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordsOf } from '../../src/emulator/speech-code/synthesize.js';
import { textForSpeech } from '../../src/speech/text-for-speech.js';
import { startTwilioRig, until, type TwilioRig } from './twilio-fixture.js';

const HOURS = 'We are open Monday to Friday from 8 to 6.';
let rig: TwilioRig;

beforeAll(async () => {
  rig = await startTwilioRig({
    script: { ttftMs: { min: 5, max: 10 }, rules: [{ when: 'hours', reply: HOURS }, { reply: 'Sure.' }] },
  });
});

afterAll(async () => {
  await rig?.close();
});

const words = (texts: string[]) => texts.join(' ').split(' ');

describe('a Twilio call through Media Streams', () => {
  it('is answered from the webhook, hears the caller and answers in audio until the caller hangs up', async () => {
    const call = rig.call();
    const line = await call.nextLine();
    expect(call.requests[0]).toMatchObject({ url: 'http://aybiza.test/twilio/voice', status: 200 });
    line.speak('What are your hours?');
    await until(() => line.heard.length >= 1, 20_000, 'the agent answered');
    expect(words(line.heard)).toEqual(wordsOf(textForSpeech(HOURS)));
    // The chunk's mark comes back once its audio (trailing silence included) has played.
    await until(() => line.events.some((event) => event.type === 'mark' && event.echoed), 5_000, 'the mark was echoed');
    expect(line.events.filter((event) => event.type === 'mark')).toEqual([{ type: 'mark', name: 's1', echoed: false }, { type: 'mark', name: 's1', echoed: true }]);
    call.hangup();
    expect(await call.ended).toEqual({ kind: 'hangup', by: 'caller' });
    await until(() => rig.node.node.calls.active() === 0, 5_000, 'the call ended on the node');
    expect(line.unexpected).toEqual([]);
  });
});
