import { pollyError } from './polly-errors.js';

export type PollyOutputFormat = 'pcm' | 'mulaw' | 'alaw';

export interface SynthesizeRequest {
  format: PollyOutputFormat;
  sampleRateHz: number;
  /** What is said: the text, or the SSML's text with its tags removed. */
  spokenText: string;
  textType: 'text' | 'ssml';
  /** Characters billed: SSML tags are not. */
  requestCharacters: number;
  voiceId: string;
  engine: string;
}

/** SynthesizeSpeech's limit on billed characters per request. */
export const MAX_REQUEST_CHARACTERS = 3_000;
const ENGINES = new Set(['standard', 'neural', 'long-form', 'generative']);
const EMULATED_FORMATS: Record<PollyOutputFormat, { rates: number[]; defaultRate: number }> = {
  pcm: { rates: [8_000, 16_000], defaultRate: 16_000 },
  mulaw: { rates: [8_000], defaultRate: 8_000 },
  alaw: { rates: [8_000], defaultRate: 8_000 },
};
const SERVICE_FORMATS = new Set(['mp3', 'ogg_vorbis', 'ogg_opus', 'json']);

/** The body of `POST /v1/speech`, checked as Polly checks it; throws the `PollyError` Polly would answer. */
export function parseSynthesizeRequest(body: unknown): SynthesizeRequest {
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { OutputFormat, Text, VoiceId, Engine = 'standard', SampleRate, TextType = 'text' } = input;
  if (typeof Text !== 'string' || typeof VoiceId !== 'string' || typeof OutputFormat !== 'string') {
    throw pollyError('ValidationException', '3 validation errors detected: OutputFormat, Text and VoiceId must not be null');
  }
  if (typeof Engine !== 'string' || !ENGINES.has(Engine)) throw pollyError('ValidationException', `Value '${String(Engine)}' at 'engine' failed to satisfy constraint`);
  if (SERVICE_FORMATS.has(OutputFormat)) {
    throw pollyError('ValidationException', `OutputFormat ${OutputFormat} is not emulated: the emulator speaks pcm, mulaw and alaw`);
  }
  const format = EMULATED_FORMATS[OutputFormat as PollyOutputFormat];
  if (!format) throw pollyError('ValidationException', `Value '${OutputFormat}' at 'outputFormat' failed to satisfy constraint`);
  const sampleRateHz = SampleRate === undefined ? format.defaultRate : Number(SampleRate);
  if (!format.rates.includes(sampleRateHz)) throw pollyError('InvalidSampleRateException', `Invalid sample rate ${String(SampleRate)} for output format ${OutputFormat}`);
  if (TextType !== 'text' && TextType !== 'ssml') throw pollyError('ValidationException', `Value '${String(TextType)}' at 'textType' failed to satisfy constraint`);
  const spokenText = TextType === 'ssml' ? textOfSsml(Text) : Text;
  if (spokenText.length > MAX_REQUEST_CHARACTERS) {
    throw pollyError('TextLengthExceededException', `Maximum text length has been exceeded: ${spokenText.length} > ${MAX_REQUEST_CHARACTERS}`);
  }
  return { format: OutputFormat as PollyOutputFormat, sampleRateHz, spokenText, textType: TextType, requestCharacters: spokenText.length, voiceId: VoiceId, engine: Engine };
}

const TAG = /<\/?([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g;

/** The text of an SSML document; a document that is not `<speak>…</speak>` with balanced tags is `InvalidSsmlException`. */
function textOfSsml(ssml: string): string {
  const trimmed = ssml.trim();
  if (!/^<speak[\s>]/.test(trimmed) || !trimmed.endsWith('</speak>')) throw pollyError('InvalidSsmlException', 'Invalid SSML request: the document must be <speak>…</speak>');
  const open: string[] = [];
  for (const match of trimmed.matchAll(TAG)) {
    const [tag, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (tag.startsWith('</')) {
      if (open.pop() !== name) throw pollyError('InvalidSsmlException', `Invalid SSML request: unexpected ${tag}`);
    } else {
      open.push(name!);
    }
  }
  if (open.length > 0) throw pollyError('InvalidSsmlException', `Invalid SSML request: <${open.at(-1)}> is not closed`);
  if (/<(?![/a-zA-Z])/.test(trimmed)) throw pollyError('InvalidSsmlException', 'Invalid SSML request: a bare < must be written &lt;');
  return trimmed
    .replace(/<break[^>]*>/g, ' ')
    .replace(TAG, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
