import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PollyClient, SynthesizeSpeechCommand } from '@aws-sdk/client-polly';
import { StartStreamTranscriptionCommand, type TranscribeStreamingClient, type AudioStream } from '@aws-sdk/client-transcribe-streaming';
import { describe, expect, it } from 'vitest';
import { runEmulatorCommand } from '../../src/cli/emulator.js';
import { emulatorTranscribeClient } from '../speech/transcribe-client.js';

const root = new URL('../../', import.meta.url).pathname;
const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };

interface Ready { event: string; url: string; transcribeUrl: string; pollyUrl: string }

function startEmulatorProcess(args: string[]) {
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--input-type=module', '-e',
    "const { runEmulatorCommand } = await import('./src/cli/emulator.ts'); await runEmulatorCommand(process.argv.slice(1));",
    '--', ...args,
  ], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AYBIZA_LOG_LEVEL: 'silent' } });
  const ready = new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)).then((line) => JSON.parse(line) as Ready);
  const stop = async (): Promise<number | null> => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    return exited;
  };
  return { ready, stop };
}

/** Polly's audio sent to Transcribe as 100 ms events, then the end frame; the finals Transcribe answers. */
async function transcribed(client: TranscribeStreamingClient, audio: Uint8Array): Promise<string[]> {
  async function* events(): AsyncIterable<AudioStream> {
    for (let at = 0; at < audio.length; at += 3_200) yield { AudioEvent: { AudioChunk: audio.slice(at, at + 3_200) } };
  }
  const output = await client.send(new StartStreamTranscriptionCommand({ LanguageCode: 'en-US', MediaEncoding: 'pcm', MediaSampleRateHertz: 16_000, AudioStream: events() }));
  const finals: string[] = [];
  for await (const event of output.TranscriptResultStream ?? []) {
    for (const result of event.TranscriptEvent?.Transcript?.Results ?? []) if (!result.IsPartial) finals.push(result.Alternatives?.[0]?.Transcript ?? '');
  }
  return finals;
}

describe('aybiza emulator', () => {
  it('prints one emulator.ready line with its url, serves the scenario script, and stops on SIGTERM', async () => {
    const emulator = startEmulatorProcess(['--port', '0', '--script', 'scenarios/faq.json', '--seed', '3']);
    const ready = await emulator.ready;
    expect(ready.event).toBe('emulator.ready');
    const health = await fetch(`${ready.url}/_emulator/health`);
    expect(health.status).toBe(200);
    expect(await emulator.stop()).toBe(0);
  });

  it('serves Transcribe streaming and Polly on their own ports, named on the ready line, to the real SDK clients', async () => {
    const emulator = startEmulatorProcess(['--port', '0', '--transcribe-port', '0', '--polly-port', '0']);
    const ready = await emulator.ready;
    expect(new Set([ready.url, ready.transcribeUrl, ready.pollyUrl]).size).toBe(3);
    const polly = new PollyClient({ endpoint: ready.pollyUrl, region: 'us-east-1', credentials });
    const transcribe = emulatorTranscribeClient(ready.transcribeUrl, credentials);
    try {
      const speech = await polly.send(new SynthesizeSpeechCommand({ Text: 'Harbor Dental, good morning.', OutputFormat: 'pcm', SampleRate: '16000', VoiceId: 'Joanna', Engine: 'neural' }));
      const audio = await speech.AudioStream!.transformToByteArray();
      expect(await transcribed(transcribe, audio)).toEqual(['Harbor Dental, good morning.']);
    } finally {
      polly.destroy();
      transcribe.destroy();
    }
    expect(await emulator.stop()).toBe(0);
  });

  it('refuses a speech port already in use, naming its flag, and releases the ports it had taken', async () => {
    const listen = async (port: number) => {
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      return server;
    };
    const close = (server: ReturnType<typeof createServer>) => new Promise((resolve) => server.close(resolve));
    const busy = await listen(0);
    const { port } = busy.address() as AddressInfo;
    const free = await listen(0);
    const bedrockPort = (free.address() as AddressInfo).port;
    await close(free);
    try {
      await expect(runEmulatorCommand(['--port', String(bedrockPort), '--polly-port', String(port)])).rejects.toThrow(
        `--polly-port: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      );
      // The Bedrock and Transcribe emulators it had started are closed: their ports are free again.
      await close(await listen(bedrockPort));
    } finally {
      await close(busy);
    }
  });

  it('serves the Lambda Invoke API beside Bedrock with --lambda-port, the shipped execute-code by default', async () => {
    const child = spawn(process.execPath, [
      '--import', 'tsx', '--input-type=module', '-e',
      "const { runEmulatorCommand } = await import('./src/cli/emulator.ts'); await runEmulatorCommand(process.argv.slice(1));",
      '--', '--port', '0', '--lambda-port', '0',
    ], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, AYBIZA_LOG_LEVEL: 'silent' } });
    const firstLine = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const ready = JSON.parse(firstLine) as { lambdaUrl: string; lambdaFunctions: string[] };
    expect(ready.lambdaFunctions).toEqual(['execute-code']);
    const invoked = await fetch(`${ready.lambdaUrl}/2015-03-31/functions/execute-code/invocations`, { method: 'POST', body: JSON.stringify({ code: '15% of 200' }) });
    expect(await invoked.json()).toMatchObject({ result: '30' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses an invalid script file, naming the file and the JSON path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aybiza-emulator-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify({ rules: [{ when: 'hi', reply: 'x' }], faults: { throttleRate: 3 } }));
      await expect(runEmulatorCommand(['--script', file])).rejects.toThrow(`${file}: faults.throttleRate:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a port that is not a port number', async () => {
    await expect(runEmulatorCommand(['--port', 'eighty'])).rejects.toThrow('--port "eighty": expected a non-negative number');
  });

  it('refuses a Transcribe stream limit under one', async () => {
    await expect(runEmulatorCommand(['--transcribe-max-streams', '0'])).rejects.toThrow('--transcribe-max-streams "0": expected an integer of at least 1');
  });
});
