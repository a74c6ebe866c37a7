import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAuthorized } from './auth.js';
import { isAllowedOrigin } from './origin.js';
import { textForSpeech } from '../speech/text-for-speech.js';
import type { SpeechSynthesizer } from '../speech/text-to-speech.js';
import { wavOf } from '../speech/wav.js';

const SPEECH_PATH = '/v1/speech';
/** What the synthesizers are asked for: the softphone plays it with Web Audio, which takes WAV at any rate. */
export const SPEECH_SAMPLE_RATE_HZ = 16_000;
/** A body this long cannot hold a text within any sensible `maxChars`; reading stops there. */
const MAX_BODY_BYTES = 64 * 1024;

export interface SpeechHttpOptions {
  /** The synthesizer of an agent's voice, PCM16 at 16 kHz; undefined for an agent the server does not have. */
  voiceOf: (agent: string) => SpeechSynthesizer | undefined;
  /** Longer texts are refused with 413 (`speech.browserAudio.maxChars`). */
  maxChars: number;
  apiKeys: readonly string[];
  allowedOrigins: readonly string[];
  onError: (error: Error) => void;
}

/**
 * `POST /v1/speech` `{"text", "agent"?}` → `audio/wav` (PCM16 mono, 16 kHz): one `say` chunk in the
 * agent's voice, for the softphone's "Agent voice: server". Behind the same keys and Origin check as
 * calls, since every request is a billed synthesis in `aws` mode. The whole chunk is synthesized
 * before the answer starts, so the WAV header carries its true length (a chunk is a sentence or two).
 * False for any other request, which the caller answers.
 */
export function serveSpeech(request: IncomingMessage, response: ServerResponse, options: SpeechHttpOptions | undefined): boolean {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== SPEECH_PATH) return false;
  const refuse = (status: number, error: string) => {
    response.writeHead(status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error }));
  };
  if (!options) {
    refuse(404, 'server audio is off: set speech.browserAudio.enabled (AYBIZA_BROWSER_AUDIO=true)');
    return true;
  }
  if (request.method !== 'POST') {
    refuse(405, 'use POST with {"text": "..."}');
    return true;
  }
  if (!isAllowedOrigin(request, options.allowedOrigins)) {
    refuse(403, 'origin not allowed');
    return true;
  }
  if (options.apiKeys.length > 0 && !isAuthorized(request.headers.authorization, url.searchParams.get('token'), options.apiKeys)) {
    refuse(401, 'unauthorized');
    return true;
  }
  void answer(request, options).then(
    (outcome) => {
      if ('error' in outcome) refuse(outcome.status, outcome.error);
      else response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': outcome.wav.length, 'cache-control': 'no-store' }).end(outcome.wav);
    },
    (error: Error) => {
      options.onError(error);
      if (!response.headersSent) refuse(502, `text-to-speech failed: ${error.message}`);
    },
  );
  return true;
}

type Outcome = { wav: Buffer } | { status: number; error: string };

async function answer(request: IncomingMessage, options: SpeechHttpOptions): Promise<Outcome> {
  const body = await readBody(request);
  if (body === undefined) return { status: 413, error: `body over ${MAX_BODY_BYTES} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400, error: 'body is not JSON: expected {"text": "...", "agent"?: "..."}' };
  }
  const { text, agent = 'default' } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { text?: unknown; agent?: unknown };
  if (typeof text !== 'string' || text.trim() === '') return { status: 400, error: 'text: expected a non-empty string' };
  if (text.length > options.maxChars) return { status: 413, error: `text: ${text.length} characters, at most ${options.maxChars}` };
  if (typeof agent !== 'string') return { status: 400, error: 'agent: expected a string' };
  const voice = options.voiceOf(agent);
  if (!voice) return { status: 400, error: `agent: no agent named ${JSON.stringify(agent.slice(0, 64))}` };
  const speakable = textForSpeech(text);
  const pieces: Uint8Array[] = [];
  if (speakable.text !== '') {
    const synthesis = speakable.ssml && voice.speaksSsml ? await voice.synthesize(speakable.ssml, 'ssml') : await voice.synthesize(speakable.text);
    for await (const piece of synthesis.audio) pieces.push(piece);
  }
  return { wav: wavOf(Buffer.concat(pieces), SPEECH_SAMPLE_RATE_HZ) };
}

/** The request body, or undefined once it passes MAX_BODY_BYTES (the rest is not read). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of request as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > MAX_BODY_BYTES) return undefined;
    pieces.push(piece);
  }
  return Buffer.concat(pieces);
}
