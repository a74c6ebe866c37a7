import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOODBYE_ON_BUDGET } from '../../src/call/machine.js';
import { wordsOf } from '../../src/emulator/speech-code/synthesize.js';
import { textForSpeech } from '../../src/speech/text-for-speech.js';
import { textOf } from '../memory/memory-fixtures.js';
import { CALLER, PUBLIC_URL, startTwilioRig, until, type TwilioRig } from './twilio-fixture.js';

const HOURS = 'We are open Monday to Friday from 8 to 6.';
const LONG = 'Let me tell you about every service we offer. We do cleanings, fillings, crowns and whitening. We also see children. Our hygienists are friendly and our chairs are comfortable.';
const FRUGAL_LINE = '+15550199001';
const DESK = '+15550100999';
let rig: TwilioRig;

beforeAll(async () => {
  rig = await startTwilioRig({
    script: {
      ttftMs: { min: 5, max: 10 },
      rules: [
        { when: 'hours', reply: HOURS },
        { when: 'services', reply: LONG },
        { when: 'pressed the key 1', reply: 'You chose appointments.' },
        { when: 'person', toolUse: { name: 'transfer_call', input: { to: 'front-desk', reason: 'caller asked for a person' } } },
        { reply: 'Sure.' },
      ],
    },
    config: {
      agents: {
        default: { systemPrompt: 'Harbor Dental reception.', tools: ['transfer_call'], model: 'sonnet' },
        frugal: { systemPrompt: 'Harbor Dental reception.', model: 'sonnet', maxCostUsd: 0.000_001 },
      },
    },
    twilio: { numbers: { [FRUGAL_LINE]: 'frugal' }, transferTargets: { 'front-desk': DESK } },
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
    expect(call.requests[0]).toMatchObject({ url: `${PUBLIC_URL}/twilio/voice`, status: 200 });
    line.speak('What are your hours?');
    await until(() => line.heard.length >= 1, 20_000, 'the agent answered');
    expect(words(line.heard)).toEqual(wordsOf(textForSpeech(HOURS).text));
    // The chunk's mark comes back once its audio (trailing silence included) has played.
    await until(() => line.events.some((event) => event.type === 'mark' && event.echoed), 5_000, 'the mark was echoed');
    expect(line.events.filter((event) => event.type === 'mark')).toEqual([{ type: 'mark', name: 's1', echoed: false }, { type: 'mark', name: 's1', echoed: true }]);
    call.hangup();
    expect(await call.ended).toEqual({ kind: 'hangup', by: 'caller' });
    await until(() => rig.node.node.calls.active() === 0, 5_000, 'the call ended on the node');
    expect(line.unexpected).toEqual([]);
  });

  it('clears the agent\'s audio when the caller barges in, and keeps only what was heard in the history', async () => {
    const call = rig.call();
    const line = await call.nextLine();
    line.speak('Tell me about your services');
    await until(() => line.heard.length >= 1, 20_000, 'the first sentence was heard');
    line.speak('wait, I have a question about children');
    await until(() => line.events.some((event) => event.type === 'clear'), 10_000, 'the runtime sent clear');
    await until(() => !line.speaking, 10_000, 'the caller finished');
    await until(() => !line.playing && line.heard.length >= 2, 20_000, 'the agent answered the interruption');
    const sentences = textForSpeech(LONG).text.split(/(?<=\.) /);
    const history = (await rig.node.node.memory.store.context(call.callSid, 10)).filter((message) => message.role === 'assistant').map(textOf);
    // The interrupted answer is stored up to the chunks the caller heard whole: never the unsaid rest.
    expect(history[0]).toBe(sentences[0]);
    expect(history[0]).not.toContain('hygienists');
    call.hangup();
    await call.ended;
  });

  it('turns a key press into the call\'s DTMF event', async () => {
    const call = rig.call();
    const line = await call.nextLine();
    await new Promise((resolve) => setTimeout(resolve, 200));
    line.dtmf('1');
    await until(() => line.heard.length >= 1, 20_000, 'the agent answered the key');
    expect(words(line.heard)).toEqual(wordsOf('You chose appointments.'));
    call.hangup();
    await call.ended;
  });

  it('transfers through the REST API with <Dial> to the configured number', async () => {
    const call = rig.call();
    const line = await call.nextLine();
    line.speak('Can I talk to a person?');
    expect(await call.ended).toEqual({ kind: 'dialed', target: DESK });
    // A transfer ends the turn at the tool: nothing more is said before the line is handed over.
    expect(line.heard).toEqual([]);
    const update = rig.twilio.restRequests().find((record) => record.callSid === call.callSid);
    expect(update).toMatchObject({ method: 'POST', status: 200 });
    expect(update!.params.Twiml).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Number>${DESK}</Number></Dial></Response>`);
  });

  it('completes the call through the REST API when the agent hangs up, after the goodbye was heard', async () => {
    const call = rig.twilio.placeCall({ webhookUrl: `${PUBLIC_URL}/twilio/voice`, from: CALLER, to: FRUGAL_LINE });
    const line = await call.nextLine();
    line.speak('What are your hours?');
    expect(await call.ended).toEqual({ kind: 'hangup', by: 'rest' });
    expect(words(line.heard)).toEqual([...wordsOf(textForSpeech(HOURS).text), ...wordsOf(textForSpeech(GOODBYE_ON_BUDGET).text)]);
    expect(rig.twilio.restRequests().filter((record) => record.callSid === call.callSid).map((record) => [record.params, record.status])).toEqual([[{ Status: 'completed' }, 200]]);
  });

  it('stops waiting for the goodbye to be heard when the caller hangs up during it, and completes nothing through the REST API', async () => {
    const call = rig.twilio.placeCall({ webhookUrl: `${PUBLIC_URL}/twilio/voice`, from: CALLER, to: FRUGAL_LINE });
    const line = await call.nextLine();
    line.speak('What are your hours?');
    await until(() => line.heard.length >= 2, 20_000, 'the goodbye\'s first sentence was heard');
    call.hangup();
    expect(await call.ended).toEqual({ kind: 'hangup', by: 'caller' });
    // Longer than the rest of the goodbye would take to play: a stream still waiting on it would complete the ended call then (Twilio: 21220).
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(rig.twilio.restRequests().filter((record) => record.callSid === call.callSid)).toEqual([]);
  });
});
