import { PollyClient, SynthesizeSpeechCommand } from '@aws-sdk/client-polly';
import { afterEach, describe, expect, it } from 'vitest';
import { synthesizeSpeechCode } from '../../src/emulator/speech-code/synthesize.js';
import { parseScenario } from '../../src/load/scenario.js';
import { startScenarioSpeech, type ScenarioSpeechServices } from '../../src/load/scenario-speech.js';
import { SpeechToTextSession, type Transcript } from '../../src/speech/speech-to-text.js';
import { emulatorTranscribeClient } from '../speech/transcribe-client.js';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
const scenarioWith = (name: string, speech?: Record<string, number>) =>
  parseScenario({ name, caller: [{ say: 'Hello' }], ...(speech ? { speech } : {}) }, `${name}.json`);
let services: ScenarioSpeechServices | undefined;

afterEach(async () => {
  await services?.close();
});

describe('speech emulators of a scenario', () => {
  it('are started for the scenarios that set speech latencies, with those latencies, and for no other', async () => {
    services = await startScenarioSpeech([scenarioWith('plain'), scenarioWith('quick-endpointing', { endOfSpeechMs: 200, pollyFirstByteMs: 20 })]);
    expect(Object.keys(services.agentSpeech)).toEqual(['quick-endpointing']);
    const { transcribeEndpoint, pollyEndpoint } = services.agentSpeech['quick-endpointing']!;

    // 300 ms of silence after the words: final under this scenario's 200 ms endpointing (the default 600 ms would still wait).
    const transcribe = emulatorTranscribeClient(transcribeEndpoint, credentials);
    const transcripts: Transcript[] = [];
    const session = new SpeechToTextSession({ client: transcribe, languageCode: 'en-US', sampleRateHz: 8_000, onTranscript: (t) => transcripts.push(t) });
    const speech = synthesizeSpeechCode('booking please', 8_000);
    const audio = new Int16Array(speech.length + 300 * 8);
    audio.set(speech);
    for (let at = 0; at < audio.length; at += 160) session.push(audio.slice(at, at + 160));
    while (!transcripts.some((t) => t.isFinal)) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(transcripts.filter((t) => t.isFinal).map((t) => t.text)).toEqual(['booking please']);
    await session.close();
    transcribe.destroy();

    const polly = new PollyClient({ endpoint: pollyEndpoint, region: 'us-east-1', credentials });
    const synthesis = await polly.send(new SynthesizeSpeechCommand({ Text: 'Hello', OutputFormat: 'pcm', SampleRate: '8000', VoiceId: 'Joanna' }));
    expect(synthesis.ContentType).toBe('audio/pcm');
    polly.destroy();
  });

  it('are none when no scenario sets speech latencies', async () => {
    services = await startScenarioSpeech([scenarioWith('plain')]);
    expect(services.agentSpeech).toEqual({});
  });
});
