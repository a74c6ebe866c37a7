import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { AudioFormat } from './audio-format.js';
import { encodeAudio, pcm16FromBytes } from './pcm.js';
import { RateConverter } from './resample.js';
import type { SpeechSynthesizer, Synthesis } from './text-to-speech.js';

export interface EspeakOptions {
  /** The line's format; espeak-ng's 22,050 Hz output is converted to it. */
  format: AudioFormat;
  /** An espeak-ng voice (`espeak-ng --voices`). Default `en-us`. */
  voice?: string;
  /** Default 160, a receptionist's pace. */
  wordsPerMinute?: number;
  /** Default `espeak-ng` on the PATH (Debian package `espeak-ng`). */
  command?: string;
}

/**
 * A local, audible voice for demos without AWS: one `espeak-ng` child process per chunk, its WAV
 * on stdout converted to the line's format as it arrives. Robotic, but a person hears the agent;
 * the emulated Polly's code is for machines. Plain text only: espeak-ng's SSML has no `telephone`,
 * and `textForSpeech`'s plain reading already says numbers digit by digit.
 */
export class EspeakTextToSpeech implements SpeechSynthesizer {
  readonly speaksSsml = false;

  constructor(private readonly options: EspeakOptions) {}

  async synthesize(text: string): Promise<Synthesis> {
    const command = this.options.command ?? 'espeak-ng';
    const args = ['--stdin', '--stdout', '-v', this.options.voice ?? 'en-us', '-s', String(this.options.wordsPerMinute ?? 160)];
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Listened for now: the audio is read later, perhaps after the process has ended.
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    let stderr = '';
    child.stderr.on('data', (piece: Buffer) => (stderr += piece.toString()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`${command} could not be started (${error.code ?? error.message}); install espeak-ng (Debian: apt-get install espeak-ng)`, { cause: error })),
      );
    });
    // A process that dies before reading its text says so by its exit status, not by a pipe error.
    child.stdin.on('error', () => {});
    child.stdin.end(text);
    const failure = (code: number | null) => `${command} failed (exit ${code}): ${stderr.trim() || 'no audio'}`;
    return { audio: this.audioOf(child, exited, failure), fromCache: false, retried: false };
  }

  private async *audioOf(child: ChildProcessWithoutNullStreams, exited: Promise<number | null>, failure: (code: number | null) => string): AsyncIterable<Uint8Array> {
    const { encoding, sampleRateHz } = this.options.format;
    let header: Buffer | undefined = Buffer.alloc(0);
    let converter: RateConverter | undefined;
    let oddByte: Buffer = Buffer.alloc(0);
    try {
      for await (const piece of child.stdout as AsyncIterable<Buffer>) {
        let bytes = piece;
        if (header) {
          header = Buffer.concat([header, bytes]);
          const parsed = parseWavHeader(header);
          if (!parsed) continue;
          converter = new RateConverter(parsed.sampleRateHz, sampleRateHz);
          bytes = header.subarray(parsed.dataOffset);
          header = undefined;
        }
        // Samples are two bytes; a pipe may cut between them.
        const joined = oddByte.length ? Buffer.concat([oddByte, bytes]) : bytes;
        const even = joined.length & ~1;
        oddByte = Buffer.from(joined.subarray(even));
        const pcm = converter!.process(pcm16FromBytes(joined.subarray(0, even)));
        if (pcm.length > 0) yield encodeAudio(pcm, encoding);
      }
      const code = await exited;
      if (code !== 0 || !converter) throw new Error(failure(code));
      yield encodeAudio(converter.flush(), encoding);
    } finally {
      // The pacer stops reading on barge-in: the rest of the sentence is not wanted.
      if (child.exitCode === null) child.kill();
    }
  }
}

/** Where a RIFF WAV header says its samples start, once it has all arrived; PCM16 mono only. */
function parseWavHeader(bytes: Buffer): { sampleRateHz: number; dataOffset: number } | undefined {
  if (bytes.length < 12) return undefined;
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error('espeak-ng did not write a WAV stream');
  let sampleRateHz: number | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = bytes.toString('ascii', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    if (id === 'data') {
      if (sampleRateHz === undefined) throw new Error('espeak-ng wrote WAV data before its format');
      return { sampleRateHz, dataOffset: at + 8 };
    }
    if (at + 8 + size > bytes.length) return undefined;
    if (id === 'fmt ') {
      const channels = bytes.readUInt16LE(at + 10);
      const bits = bytes.readUInt16LE(at + 22);
      if (bytes.readUInt16LE(at + 8) !== 1 || channels !== 1 || bits !== 16) throw new Error(`espeak-ng wrote ${channels}-channel ${bits}-bit audio, not PCM16 mono`);
      sampleRateHz = bytes.readUInt32LE(at + 12);
    }
    at += 8 + size + (size & 1);
  }
  return undefined;
}
