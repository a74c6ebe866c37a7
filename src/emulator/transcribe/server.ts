import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import alawmulaw from 'alawmulaw';
import { createDualProtocolServer, type AnyRequest, type AnyResponse } from '../dual-protocol.js';
import { SpeechCodeDecoder, type DecodedWord, type SpeechCodeEvent } from '../speech-code/decoder.js';
import { AudioEventReader, TranscriptFrames } from './audio-events.js';
import { ChunkSignatureChain, parseAuthorization } from './chunk-signatures.js';
import { TRANSCRIBE_ERROR_STATUS, TranscribeError, type TranscribeErrorType } from './transcribe-errors.js';
import { transcriptResult } from './transcript-results.js';

export interface TranscribeEmulatorOptions {
  host?: string;
  /** Its own port (0: any free one), apart from the Bedrock and Polly emulators. */
  port?: number;
  /** Silence after the last word before its result is final (the service's endpointing). Default {@link DEFAULT_END_OF_SPEECH_MS}. */
  endOfSpeechMs?: number;
  /** Extra delay before each partial result is sent, as a scenario's first-partial latency. Default 0. */
  partialDelayMs?: number;
  /** Extra delay before each final result is sent. Default 0. */
  finalDelayMs?: number;
  /** The stream fails with BadRequestException after this long without an audio event. Default 15,000 ms, as the service. */
  silenceTimeoutMs?: number;
  /** Concurrent streams before LimitExceededException. Default 25. */
  maxStreams?: number;
  /** When given, every audio envelope's chunk signature is checked against this secret (clients must sign with it). */
  secretAccessKey?: string;
}

export interface TranscriptionRecord {
  sessionId: string;
  languageCode: string;
  sampleRateHz: number;
  mediaEncoding: string;
  audioEvents: number;
  /** Final transcripts sent, in order. */
  finals: string[];
  /** How the stream ended: `end` (client's end frame), an exception type, or `open`. */
  outcome: string;
}

export interface RunningTranscribeEmulator {
  url: string;
  streams(): TranscriptionRecord[];
  /** Every open stream fails now with `type`, as a service fault mid-call. */
  failOpenStreams(type?: TranscribeErrorType): void;
  close(): Promise<void>;
}

/** The emulator's endpointing silence unless told otherwise (`aybiza emulator` does not; serve's embedded one takes speech.emulatorEndOfSpeechMs, also 600). */
export const DEFAULT_END_OF_SPEECH_MS = 600;

const ENCODINGS = new Set(['pcm', 'g711-ulaw', 'g711-alaw']);
const SERVICE_ENCODINGS = new Set(['flac', 'ogg-opus', 'g729']);

interface StreamConfig {
  sessionId: string;
  languageCode: string;
  sampleRateHz: number;
  mediaEncoding: string;
  stabilization: boolean;
}

/** Amazon Transcribe `StartStreamTranscription` over cleartext HTTP/2, hearing the emulated speech code. */
export async function startTranscribeEmulator(options: TranscribeEmulatorOptions = {}): Promise<RunningTranscribeEmulator> {
  const endOfSpeechMs = options.endOfSpeechMs ?? DEFAULT_END_OF_SPEECH_MS;
  const silenceTimeoutMs = options.silenceTimeoutMs ?? 15_000;
  const maxStreams = options.maxStreams ?? 25;
  const records: TranscriptionRecord[] = [];
  const open = new Set<(type: TranscribeErrorType, message: string) => void>();
  const frames = new TranscriptFrames();

  const refuse = (response: AnyResponse, error: TranscribeError) => {
    response.writeHead(TRANSCRIBE_ERROR_STATUS[error.type], { 'content-type': 'application/json', 'x-amzn-errortype': `${error.type}:`, 'x-amzn-request-id': randomUUID() });
    response.end(JSON.stringify({ Message: error.message }));
  };

  const handle = (request: AnyRequest, response: AnyResponse): void => {
    let config: StreamConfig;
    let signatures: ChunkSignatureChain | undefined;
    try {
      if (request.method !== 'POST' || request.url?.split('?')[0] !== '/stream-transcription') {
        throw new TranscribeError('BadRequestException', `No operation at ${request.method} ${request.url}`);
      }
      config = streamConfig(request);
      if (options.secretAccessKey) {
        const authorization = parseAuthorization(request.headers.authorization);
        if (!authorization) throw new TranscribeError('BadRequestException', 'The request is not signed with SigV4');
        signatures = new ChunkSignatureChain(options.secretAccessKey, authorization.region, authorization.service, authorization.signature);
      }
      if (open.size >= maxStreams) throw new TranscribeError('LimitExceededException', `You have reached your limit of ${maxStreams} concurrent streams`);
    } catch (error) {
      refuse(response, error instanceof TranscribeError ? error : new TranscribeError('InternalFailureException', String(error)));
      return;
    }
    const record: TranscriptionRecord = { ...config, audioEvents: 0, finals: [], outcome: 'open' };
    records.push(record);
    response.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-request-id': randomUUID(),
      'x-amzn-transcribe-session-id': config.sessionId,
      'x-amzn-transcribe-language-code': config.languageCode,
      'x-amzn-transcribe-sample-rate': String(config.sampleRateHz),
      'x-amzn-transcribe-media-encoding': config.mediaEncoding,
    });

    const reader = new AudioEventReader(signatures);
    const decoder = new SpeechCodeDecoder({ sampleRateHz: config.sampleRateHz, endOfSpeechMs });
    const toPcm = pcmReader(config.mediaEncoding);
    let words: DecodedWord[] = [];
    let resultId = randomUUID();
    let finished = false;
    // Results leave in order even when partials and finals have different delays.
    let outbox = Promise.resolve();
    const send = (frame: Uint8Array, delayMs: number) => {
      outbox = outbox.then(async () => {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (!response.destroyed) (response as { write(chunk: Uint8Array): boolean }).write(frame);
      });
    };
    const sendResult = (isPartial: boolean) => {
      const result = transcriptResult(resultId, words, isPartial, config.stabilization, config.languageCode);
      if (!isPartial) {
        record.finals.push(result.Alternatives[0]!.Transcript);
        words = [];
        resultId = randomUUID();
      }
      send(frames.event({ Transcript: { Results: [result] } }), isPartial ? (options.partialDelayMs ?? 0) : (options.finalDelayMs ?? 0));
    };
    const onDecoded = (event: SpeechCodeEvent) => {
      if (event.type === 'word') {
        words.push(event.word);
        sendResult(true);
      } else if (words.length > 0) {
        sendResult(false);
      }
    };
    const finish = (outcome: string, exception?: { type: TranscribeErrorType; message: string }) => {
      if (finished) return;
      finished = true;
      clearTimeout(silenceTimer);
      open.delete(fail);
      record.outcome = outcome;
      if (exception) send(frames.exception(exception.type, exception.message), 0);
      void outbox.then(() => {
        if (!response.destroyed) response.end();
      });
    };
    const fail = (type: TranscribeErrorType, message: string) => finish(type, { type, message });
    const armSilenceTimer = () =>
      setTimeout(() => fail('BadRequestException', `Your request timed out because no new audio was received for ${silenceTimeoutMs / 1000} seconds.`), silenceTimeoutMs);
    let silenceTimer = armSilenceTimer();
    open.add(fail);

    request.on('data', (chunk: Buffer) => {
      if (finished) return;
      try {
        const { audio, end } = reader.push(chunk);
        for (const payload of audio) {
          record.audioEvents += 1;
          clearTimeout(silenceTimer);
          silenceTimer = armSilenceTimer();
          decoder.push(toPcm(payload)).forEach(onDecoded);
        }
        if (end) {
          // The audio is over: whatever was said is final now, as the service does at the end of a stream.
          decoder.push(new Int16Array(Math.ceil((config.sampleRateHz * (endOfSpeechMs + 100)) / 1000))).forEach(onDecoded);
          if (words.length > 0) sendResult(false);
          finish('end');
        }
      } catch (error) {
        if (error instanceof TranscribeError) fail(error.type, error.message);
        else fail('InternalFailureException', String(error));
      }
    });
    request.on('close', () => {
      if (!finished) finish('client closed');
    });
  };

  const dual = createDualProtocolServer(handle);
  await dual.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = dual.server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    streams: () => records.map((record) => ({ ...record, finals: [...record.finals] })),
    failOpenStreams: (type = 'InternalFailureException') => {
      for (const fail of [...open]) fail(type, `Emulated ${type}`);
    },
    close: () => dual.close(),
  };
}

function streamConfig(request: AnyRequest): StreamConfig {
  const header = (name: string) => {
    const value = request.headers[`x-amzn-transcribe-${name}`];
    return Array.isArray(value) ? value[0] : value;
  };
  const sampleRateHz = Number(header('sample-rate'));
  const mediaEncoding = header('media-encoding') ?? '';
  const languageCode = header('language-code') ?? '';
  if (!Number.isInteger(sampleRateHz) || sampleRateHz < 8_000 || sampleRateHz > 48_000) {
    throw new TranscribeError('BadRequestException', `The sample rate ${header('sample-rate')} is not valid: use 8,000 to 48,000 Hz`);
  }
  if (SERVICE_ENCODINGS.has(mediaEncoding)) throw new TranscribeError('BadRequestException', `Media encoding ${mediaEncoding} is not emulated: use pcm, g711-ulaw or g711-alaw`);
  if (!ENCODINGS.has(mediaEncoding)) throw new TranscribeError('BadRequestException', `The media encoding ${mediaEncoding || '(none)'} is not valid`);
  if (!/^[a-z]{2}-[A-Z]{2}$/.test(languageCode) && header('identify-language') !== 'true') {
    throw new TranscribeError('BadRequestException', `The language code ${languageCode || '(none)'} is not valid`);
  }
  if ((mediaEncoding === 'g711-ulaw' || mediaEncoding === 'g711-alaw') && sampleRateHz !== 8_000) {
    throw new TranscribeError('BadRequestException', `${mediaEncoding} audio must be sampled at 8,000 Hz`);
  }
  return {
    sessionId: header('session-id') ?? randomUUID(),
    languageCode: languageCode || 'en-US',
    sampleRateHz,
    mediaEncoding,
    stabilization: header('enable-partial-results-stabilization') === 'true',
  };
}

/** Audio payloads → PCM16 samples; a PCM payload may split a sample, whose first byte waits for the next. */
function pcmReader(encoding: string): (payload: Uint8Array) => Int16Array {
  if (encoding === 'g711-ulaw') return (payload) => alawmulaw.mulaw.decode(payload);
  if (encoding === 'g711-alaw') return (payload) => alawmulaw.alaw.decode(payload);
  let carry: number | undefined;
  return (payload) => {
    const bytes = carry === undefined ? payload : Buffer.concat([Uint8Array.of(carry), payload]);
    const count = bytes.length >> 1;
    carry = bytes.length % 2 === 1 ? bytes[bytes.length - 1] : undefined;
    const samples = new Int16Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
    for (let i = 0; i < count; i += 1) samples[i] = view.getInt16(2 * i, true);
    return samples;
  };
}
