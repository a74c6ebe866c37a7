import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import alawmulaw from 'alawmulaw';
import { createDualProtocolServer, type AnyRequest, type AnyResponse } from '../dual-protocol.js';
import { DEFAULT_SPEECH_CODE_TIMING, synthesizeSpeechCode, type SpeechCodeTiming } from '../speech-code/synthesize.js';
import { PollyError, pollyError, type PollyErrorType } from './polly-errors.js';
import { parseSynthesizeRequest, type SynthesizeRequest } from './synthesize-request.js';

export interface PollyEmulatorOptions {
  host?: string;
  /** Its own port (0: any free one), apart from the Bedrock and Transcribe emulators. */
  port?: number;
  /** Delay before the first audio byte, as a scenario's Polly latency. Default 0. */
  firstByteMs?: number;
  /** How fast the emulated voice speaks. */
  timing?: Partial<SpeechCodeTiming>;
  /** Audio bytes per body write; Polly streams its body and clients must play from the first piece. */
  chunkBytes?: number;
}

export interface SynthesisRecord {
  /** What was said (SSML without its tags). */
  text: string;
  textType: 'text' | 'ssml';
  format: string;
  sampleRateHz: number;
  voiceId: string;
  engine: string;
  requestCharacters: number;
}

export interface RunningPollyEmulator {
  url: string;
  /** Requests answered with audio, oldest first. */
  syntheses(): SynthesisRecord[];
  /** The next `count` SynthesizeSpeech requests fail with `type` (e.g. ThrottlingException). */
  failNext(type: PollyErrorType, count?: number): void;
  close(): Promise<void>;
}

const CONTENT_TYPES = { pcm: 'audio/pcm', mulaw: 'audio/mulaw', alaw: 'audio/alaw' } as const;
const MAX_BODY_BYTES = 1024 * 1024;

/** Amazon Polly's `SynthesizeSpeech` (REST-JSON, cleartext HTTP/2 or HTTP/1.1), speaking the emulated speech code. */
export async function startPollyEmulator(options: PollyEmulatorOptions = {}): Promise<RunningPollyEmulator> {
  const timing = { ...DEFAULT_SPEECH_CODE_TIMING, ...options.timing };
  const records: SynthesisRecord[] = [];
  const injected: PollyErrorType[] = [];

  const handle = async (request: AnyRequest, response: AnyResponse): Promise<void> => {
    const requestId = randomUUID();
    try {
      if (request.method !== 'POST' || request.url?.split('?')[0] !== '/v1/speech') {
        throw new PollyError('ValidationException', 404, `No operation at ${request.method} ${request.url}`);
      }
      const body = await readBody(request);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw pollyError('ValidationException', 'The request body is not JSON');
      }
      const synthesis = parseSynthesizeRequest(parsed);
      const fault = injected.shift();
      if (fault) throw pollyError(fault, `Emulated ${fault}`);
      records.push({ text: synthesis.spokenText, textType: synthesis.textType, format: synthesis.format, sampleRateHz: synthesis.sampleRateHz, voiceId: synthesis.voiceId, engine: synthesis.engine, requestCharacters: synthesis.requestCharacters });
      await streamAudio(response, synthesis, requestId);
    } catch (error) {
      const failure = error instanceof PollyError ? error : pollyError('ServiceFailureException', String(error));
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(failure.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': failure.type, 'x-amzn-RequestId': requestId });
      response.end(JSON.stringify({ message: failure.message }));
    }
  };

  const streamAudio = async (response: AnyResponse, synthesis: SynthesizeRequest, requestId: string): Promise<void> => {
    const pcm = synthesizeSpeechCode(synthesis.spokenText, synthesis.sampleRateHz, timing);
    const audio =
      synthesis.format === 'mulaw' ? alawmulaw.mulaw.encode(pcm) : synthesis.format === 'alaw' ? alawmulaw.alaw.encode(pcm) : new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    if (options.firstByteMs) await new Promise((resolve) => setTimeout(resolve, options.firstByteMs));
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[synthesis.format],
      'x-amzn-RequestCharacters': String(synthesis.requestCharacters),
      'x-amzn-RequestId': requestId,
    });
    const chunkBytes = options.chunkBytes ?? 4_096;
    for (let at = 0; at < audio.length; at += chunkBytes) {
      if (response.destroyed) return;
      const ok = (response as { write(chunk: Uint8Array): boolean }).write(audio.subarray(at, at + chunkBytes));
      if (!ok) await new Promise((resolve) => response.once('drain', resolve));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    response.end();
  };

  const dual = createDualProtocolServer((request, response) => void handle(request, response));
  await dual.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = dual.server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    syntheses: () => [...records],
    failNext: (type, count = 1) => injected.push(...Array.from({ length: count }, () => type)),
    close: () => dual.close(),
  };
}

async function readBody(request: AnyRequest): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw pollyError('ValidationException', 'The request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
