import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordsOf } from '../../src/emulator/speech-code/synthesize.js';
import { startPollyEmulator, type RunningPollyEmulator } from '../../src/emulator/polly/server.js';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../../src/emulator/transcribe/server.js';
import { textForSpeech } from '../../src/speech/text-for-speech.js';
import { CALLER, PUBLIC_URL, startTwilioRig, until, type TwilioRig } from './twilio-fixture.js';

const ABROAD_LINE = '+15550199002';
const ANSWER = 'Nous sommes ouverts de huit à six.';
let rig: TwilioRig;
let transcribe: RunningTranscribeEmulator;
let polly: RunningPollyEmulator;

beforeAll(async () => {
  // The agent's own Transcribe and Polly (as an agent in another region, or behind a VPC endpoint, has).
  transcribe = await startTranscribeEmulator({ endOfSpeechMs: 300 });
  polly = await startPollyEmulator();
  rig = await startTwilioRig({
    script: { ttftMs: 5, rules: [{ reply: ANSWER }] },
    config: {
      agents: {
        default: { systemPrompt: 'Harbor Dental reception.', model: 'sonnet' },
        abroad: {
          systemPrompt: 'Réception de Harbor Dental.',
          model: 'sonnet',
          speech: { region: 'eu-west-3', transcribeEndpoint: transcribe.url, pollyEndpoint: polly.url, tts: { voiceId: 'Lea' } },
        },
      },
    },
    twilio: { numbers: { [ABROAD_LINE]: 'abroad' } },
  });
});

afterAll(async () => {
  await rig?.close();
  await transcribe?.close();
  await polly?.close();
});

describe('an agent with speech endpoints of its own', () => {
  it('hears and speaks through them, and the other agents keep the node\'s', async () => {
    const call = rig.twilio.placeCall({ webhookUrl: `${PUBLIC_URL}/twilio/voice`, from: CALLER, to: ABROAD_LINE });
    const line = await call.nextLine();
    line.speak('Quelles sont vos heures');
    await until(() => line.heard.length >= 1, 20_000, 'the agent answered');
    expect(line.heard.join(' ').split(' ')).toEqual(wordsOf(textForSpeech(ANSWER).text));
    expect(transcribe.streams().map((stream) => stream.finals)).toEqual([['Quelles sont vos heures']]);
    expect(polly.syntheses().map((synthesis) => [synthesis.text, synthesis.voiceId])).toEqual([[textForSpeech(ANSWER).text, 'Lea']]);
    call.hangup();
    await call.ended;

    const other = rig.call();
    const otherLine = await other.nextLine();
    otherLine.speak('What are your hours');
    await until(() => otherLine.heard.length >= 1, 20_000, 'the default agent answered');
    expect(transcribe.streams()).toHaveLength(1);
    other.hangup();
    await other.ended;
  });
});
