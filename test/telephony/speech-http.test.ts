import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from '../integration/test-node.js';

const KEY = 'speech-test-key';

let polly: TestNode;
let espeak: TestNode;
let off: TestNode;
const speechUrl = (node: TestNode) => `http://127.0.0.1:${new URL(node.url).port}/v1/speech`;

const post = (node: TestNode, body: string, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
  fetch(speechUrl(node), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** The fields of a PCM16 WAV header the browser decodes by. */
function wavHeader(bytes: Buffer) {
  return {
    riff: bytes.toString('ascii', 0, 4),
    wave: bytes.toString('ascii', 8, 12),
    format: bytes.readUInt16LE(20),
    channels: bytes.readUInt16LE(22),
    sampleRateHz: bytes.readUInt32LE(24),
    bitsPerSample: bytes.readUInt16LE(34),
    dataBytes: bytes.readUInt32LE(40),
  };
}

beforeAll(async () => {
  const script = { rules: [{ reply: 'Hello.' }] };
  [polly, espeak, off] = await Promise.all([
    startTestNode({ script, config: { server: { apiKeys: [KEY] }, speech: { mode: 'emulator', browserAudio: { enabled: true, maxChars: 40 } } } }),
    startTestNode({ script, config: { speech: { mode: 'emulator', browserAudio: { enabled: true, synthesizer: 'espeak' } } } }),
    startTestNode({ script }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([polly?.close(), espeak?.close(), off?.close()]);
});

describe('POST /v1/speech', () => {
  it('answers a chunk in the emulated Polly voice as a 16 kHz PCM16 mono WAV whose header carries its length', async () => {
    const response = await post(polly, JSON.stringify({ text: 'We open at nine.' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/wav');
    const wav = Buffer.from(await response.arrayBuffer());
    expect(wavHeader(wav)).toEqual({ riff: 'RIFF', wave: 'WAVE', format: 1, channels: 1, sampleRateHz: 16_000, bitsPerSample: 16, dataBytes: wav.length - 44 });
    expect(wav.length - 44).toBeGreaterThan(0);
  });

  it('answers with the local espeak-ng voice when speech.browserAudio.synthesizer is espeak', async () => {
    const response = await post(espeak, JSON.stringify({ text: 'We open at nine.' }), {});
    expect(response.status).toBe(200);
    const wav = Buffer.from(await response.arrayBuffer());
    expect(wavHeader(wav)).toMatchObject({ riff: 'RIFF', sampleRateHz: 16_000, bitsPerSample: 16, dataBytes: wav.length - 44 });
    expect(wav.length - 44).toBeGreaterThan(0);
  });

  it('refuses a request without a key, or with a wrong one, with 401 when keys are set', async () => {
    expect((await post(polly, JSON.stringify({ text: 'Hi.' }), {})).status).toBe(401);
    expect((await post(polly, JSON.stringify({ text: 'Hi.' }), { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('names what is wrong with bad input: 400 for a body that is not JSON, no text, or an unknown agent; 413 for a text over maxChars', async () => {
    const cases: [string, number, string][] = [
      ['not json', 400, 'body is not JSON: expected {"text": "...", "agent"?: "..."}'],
      [JSON.stringify({}), 400, 'text: expected a non-empty string'],
      [JSON.stringify({ text: '   ' }), 400, 'text: expected a non-empty string'],
      [JSON.stringify({ text: 'Hi.', agent: 'nobody' }), 400, 'agent: no agent named "nobody"'],
      [JSON.stringify({ text: 'x'.repeat(41) }), 413, 'text: 41 characters, at most 40'],
    ];
    for (const [body, status, error] of cases) {
      const response = await post(polly, body);
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error } });
    }
  });

  it('refuses a page of another origin with 403, and a GET with 405', async () => {
    expect((await post(espeak, JSON.stringify({ text: 'Hi.' }), { origin: 'https://evil.example' })).status).toBe(403);
    expect((await fetch(speechUrl(espeak))).status).toBe(405);
  });

  it('says how to turn it on when speech.browserAudio is off', async () => {
    const response = await post(off, JSON.stringify({ text: 'Hi.' }), {});
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 404,
      body: { error: 'server audio is off: set speech.browserAudio.enabled (AYBIZA_BROWSER_AUDIO=true)' },
    });
  });
});
