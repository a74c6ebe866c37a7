import { Writable } from 'node:stream';
import { InternalFailureException, StartStreamTranscriptionCommand, TranscribeStreamingClient, type AudioStream } from '@aws-sdk/client-transcribe-streaming';
import { afterEach, describe, expect, it } from 'vitest';
import { startTranscribeEmulator, type RunningTranscribeEmulator } from '../src/emulator/transcribe/server.js';
import { awsSdkLogger, createLogger, throttledLog } from '../src/log.js';

let emulator: RunningTranscribeEmulator | undefined;
let client: TranscribeStreamingClient | undefined;

afterEach(async () => {
  client?.destroy();
  await emulator?.close();
});

function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

describe('the AWS SDK logger', () => {
  it('writes what a real client warns as a JSON line with the client named, and asks for no copy of each request', async () => {
    const { log, lines } = capturedLog();
    emulator = await startTranscribeEmulator({});
    const logger = awsSdkLogger(log, 'transcribe-streaming');
    // Without `info` and `error` the SDK's logger middleware never builds its filtered copies of inputs and outputs.
    expect(Object.keys(logger).sort()).toEqual(['debug', 'warn']);
    client = new TranscribeStreamingClient({
      endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
      logger: logger as never,
    });
    const audio = (async function* (): AsyncGenerator<AudioStream> {
      for (;;) {
        yield { AudioEvent: { AudioChunk: new Uint8Array(320) } };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const stream = client.send(new StartStreamTranscriptionCommand({ LanguageCode: 'en-US', MediaEncoding: 'pcm', MediaSampleRateHertz: 8_000, AudioStream: audio }));
    const failed = (async () => {
      const output = await stream;
      for await (const _ of output.TranscriptResultStream!) void _;
    })();
    while ((emulator.streams()[0]?.audioEvents ?? 0) < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    emulator.failOpenStreams('InternalFailureException');
    await expect(failed).rejects.toBeInstanceOf(InternalFailureException);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', event: 'aws_sdk.warning', client: 'transcribe-streaming', msg: 'An error was encountered in a non-retryable streaming request.' }));
  });
});

describe('a throttled log', () => {
  it('writes the first line of each event and key per window and counts the rest into the next one', () => {
    const { log, lines } = capturedLog();
    let now = 1_000;
    const write = throttledLog(log, 10_000, () => now);
    for (let i = 0; i < 5; i += 1) write('warn', 'bad_signature', { event: 'twilio.webhook_refused', reason: 'bad_signature' });
    write('warn', 'body_too_large', { event: 'twilio.webhook_refused', reason: 'body_too_large' });
    expect(lines.map((line) => [line.reason, line.suppressed])).toEqual([['bad_signature', undefined], ['body_too_large', undefined]]);
    now += 10_000;
    write('warn', 'bad_signature', { event: 'twilio.webhook_refused', reason: 'bad_signature' });
    expect(lines.at(-1)).toMatchObject({ level: 'warn', event: 'twilio.webhook_refused', reason: 'bad_signature', suppressed: 4 });
    now += 10_000;
    write('warn', 'bad_signature', { event: 'twilio.webhook_refused', reason: 'bad_signature' });
    expect(lines.at(-1)?.suppressed).toBeUndefined();
  });
});
