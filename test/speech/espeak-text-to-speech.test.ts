import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src/process-alive.js';
import type { AudioFormat } from '../../src/speech/audio-format.js';
import { EspeakTextToSpeech } from '../../src/speech/espeak-text-to-speech.js';
import { AudioFramer } from '../../src/speech/framer.js';
import { decodeAudio } from '../../src/speech/pcm.js';
import { VoiceActivityDetector } from '../../src/speech/voice-activity.js';

const installed = spawnSync('espeak-ng', ['--version']).status === 0;

async function collect(audio: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  for await (const piece of audio) pieces.push(piece);
  return Buffer.concat(pieces);
}

/** Voice activity over the audio in 20 ms frames: where speech starts and ends. */
function speechEvents(bytes: Uint8Array, format: AudioFormat): string[] {
  const vad = new VoiceActivityDetector();
  const framer = new AudioFramer(format);
  const silence = new Uint8Array(bytes.length).fill(format.encoding === 'mulaw' ? 0xff : 0);
  return [...framer.push(bytes), ...framer.push(silence)].flatMap((frame) => {
    const event = vad.push(decodeAudio(frame, format.encoding));
    return event ? [event.type] : [];
  });
}

describe.skipIf(!installed)('espeak-ng as a local voice', () => {
  it.each([
    [{ encoding: 'mulaw', sampleRateHz: 8_000 }, 1],
    [{ encoding: 'pcm16', sampleRateHz: 16_000 }, 2],
  ] as const)('speaks in the line\'s format (%o), audible to voice activity', async (format, bytesPerSample) => {
    const speech = new EspeakTextToSpeech({ format });
    expect(speech.speaksSsml).toBe(false);
    const synthesis = await speech.synthesize('Thank you for calling Harbor Dental.');
    const audio = await collect(synthesis.audio);
    const seconds = audio.length / bytesPerSample / format.sampleRateHz;
    // Six words at 160 a minute, with espeak-ng's sentence pause: between one and four seconds.
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(4);
    expect(speechEvents(audio, format)).toEqual(['speechStarted', 'speechEnded']);
  });

});

describe('the espeak-ng process', () => {
  let dir: string | undefined;
  let pid: number | undefined;
  afterEach(() => {
    if (pid !== undefined && isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is stopped when playback stops reading (a barge-in), not left to speak on', async () => {
    // A stand-in that writes a WAV header and a second of audio, records its pid, then never ends by itself.
    dir = mkdtempSync(join(tmpdir(), 'aybiza-espeak-'));
    const script = join(dir, 'espeak-ng');
    const speaker = `const h=Buffer.alloc(44);h.write('RIFF',0);h.writeUInt32LE(0x7ffff024,4);h.write('WAVEfmt ',8);h.writeUInt32LE(16,16);h.writeUInt16LE(1,20);h.writeUInt16LE(1,22);h.writeUInt32LE(22050,24);h.writeUInt32LE(44100,28);h.writeUInt16LE(2,32);h.writeUInt16LE(16,34);h.write('data',36);h.writeUInt32LE(0x7ffff000,40);process.stdout.write(h);process.stdout.write(Buffer.alloc(44100,1));setInterval(()=>{},1000);`;
    writeFileSync(join(dir, 'speaker.cjs'), speaker);
    writeFileSync(script, `#!/bin/sh\necho $$ > "${dir}/pid"\nexec "${process.execPath}" "${dir}/speaker.cjs"\n`, { mode: 0o755 });
    const speech = new EspeakTextToSpeech({ format: { encoding: 'mulaw', sampleRateHz: 8_000 }, command: script });
    const synthesis = await speech.synthesize('We are open Monday to Friday.');
    for await (const piece of synthesis.audio) {
      expect(piece.length).toBeGreaterThan(0);
      pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      break;
    }
    while (isProcessAlive(pid!)) await new Promise((resolve) => setTimeout(resolve, 10));
  });
});

describe('espeak-ng missing', () => {
  it('refuses to synthesize, naming the command and the package', async () => {
    const speech = new EspeakTextToSpeech({ format: { encoding: 'mulaw', sampleRateHz: 8_000 }, command: '/nonexistent/espeak-ng' });
    await expect(speech.synthesize('Hello')).rejects.toThrow('/nonexistent/espeak-ng could not be started (ENOENT); install espeak-ng (Debian: apt-get install espeak-ng)');
  });
});
