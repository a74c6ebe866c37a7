import type { AddressInfo } from 'node:net';
import alawmulaw from 'alawmulaw';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { SpeechCodeDecoder } from '../../src/emulator/speech-code/decoder.js';
import { synthesizeSpeechCode } from '../../src/emulator/speech-code/synthesize.js';
import { MediaLine } from '../../src/emulator/twilio/media-line.js';

interface Media {
  event: 'media';
  sequenceNumber: string;
  streamSid: string;
  media: { track: string; chunk: string; timestamp: string; payload: string };
}

/** A bare Media Streams endpoint: every text message, with when it arrived and in which socket read. */
async function endpoint() {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((ready) => server.once('listening', ready));
  const messages: Array<{ at: number; read: number; message: Record<string, unknown> }> = [];
  let reads = 0;
  server.on('connection', (ws, request) => {
    request.socket.prependListener('data', () => (reads += 1));
    ws.on('message', (data) => messages.push({ at: performance.now(), read: reads, message: JSON.parse(data.toString()) as Record<string, unknown> }));
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/twilio/media`;
  return { server, url, messages, media: () => messages.filter((entry) => entry.message.event === 'media') as unknown as Array<{ at: number; read: number; message: Media }> };
}

const lines: MediaLine[] = [];
const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const line of lines.splice(0)) line.stop();
  for (const server of servers.splice(0)) await new Promise((done) => server.close(done));
});

async function openLine() {
  const stream = await endpoint();
  servers.push(stream.server);
  const line = await MediaLine.open({ url: stream.url, connectTo: stream.url, accountSid: `AC${'0'.repeat(32)}`, authToken: 'token', callSid: `CA${'1'.repeat(32)}`, parameters: {} });
  lines.push(line);
  return { line, ...stream };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('emulated Twilio media line', () => {
  it('streams line silence as one media message per 20 ms frame, numbered and timestamped in order, several to a socket write', async () => {
    const { line, messages, media } = await openLine();
    await sleep(700);
    expect(messages.slice(0, 2).map((entry) => entry.message.event)).toEqual(['connected', 'start']);
    const frames = media();
    expect(frames.length).toBeGreaterThanOrEqual(25);
    frames.forEach(({ message }, index) => {
      expect(message).toEqual({
        event: 'media', sequenceNumber: String(index + 2), streamSid: line.streamSid,
        media: { track: 'inbound', chunk: String(index + 1), timestamp: String((index + 1) * 20), payload: expect.any(String) as string },
      });
      expect([...Buffer.from(message.media.payload, 'base64')]).toEqual(new Array(160).fill(0xff));
    });
    // Bursts: fewer socket reads than frames (one write per burst), none of them ahead of real time.
    expect(new Set(frames.map((frame) => frame.read)).size).toBeLessThan(frames.length / 2);
  });

  it('sends the caller\'s speech as queued, and marks when its last frame went out', async () => {
    const { line, media } = await openLine();
    await sleep(200);
    const before = media().length;
    const text = 'Is Dr. Okafor in today?';
    line.speak(text);
    await line.changed();
    expect(line.speaking).toBe(false);
    await sleep(100);
    // The speech starts voiced, after the line silence already due when it was queued.
    const silence = Buffer.alloc(160, 0xff).toString('base64');
    const start = media().findIndex(({ message }, index) => index >= before && message.media.payload !== silence);
    const spoken = media().slice(start, start + Math.ceil(synthesizeSpeechCode(text, 8_000).length / 160));
    const decoder = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: 300 });
    const words = spoken.flatMap(({ message }) => decoder.push(alawmulaw.mulaw.decode(Buffer.from(message.media.payload, 'base64'))))
      .flatMap((event) => (event.type === 'word' ? [event.word.text] : []));
    expect(words).toEqual(text.split(' '));
    // spokeAt is when the last speech frame was written, just before it reached the endpoint.
    const last = spoken.at(-1)!;
    expect(last.at).toBeGreaterThanOrEqual(line.spokeAt);
    expect(last.at - line.spokeAt).toBeLessThan(200);
  });
});
