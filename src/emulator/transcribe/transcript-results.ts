import type { DecodedWord } from '../speech-code/decoder.js';

/** The `Result` shape of a `TranscriptEvent` (AWS Transcribe streaming), as far as the emulator fills it. */
export interface TranscribeResult {
  ResultId: string;
  StartTime: number;
  EndTime: number;
  IsPartial: boolean;
  ChannelId: string;
  LanguageCode?: string;
  Alternatives: { Transcript: string; Items: TranscribeItem[] }[];
}

export interface TranscribeItem {
  StartTime: number;
  EndTime: number;
  Type: 'pronunciation' | 'punctuation';
  Content: string;
  VocabularyFilterMatch: boolean;
  Confidence?: number;
  Stable?: boolean;
}

const PUNCTUATION = /^(.*?)([.,?!;:]*)$/s;
const seconds = (ms: number) => Math.round(ms) / 1000;

/**
 * The words of one utterance so far as a Result. A trailing `.`, `,`, `?`, `!` becomes its own
 * punctuation item as Transcribe reports it; with stabilization every word but the last is stable
 * in a partial (the last may still change), all are in a final.
 */
export function transcriptResult(resultId: string, words: readonly DecodedWord[], isPartial: boolean, stabilization: boolean, languageCode?: string): TranscribeResult {
  const items: TranscribeItem[] = [];
  words.forEach((word, index) => {
    const [, content = word.text, punctuation = ''] = PUNCTUATION.exec(word.text) ?? [];
    const stable = stabilization ? !isPartial || index < words.length - 1 : undefined;
    const base = { VocabularyFilterMatch: false, ...(stable === undefined ? {} : { Stable: stable }) };
    if (content.length > 0) items.push({ ...base, StartTime: seconds(word.startMs), EndTime: seconds(word.endMs), Type: 'pronunciation', Content: content, Confidence: 0.99 });
    if (punctuation.length > 0) items.push({ ...base, StartTime: seconds(word.endMs), EndTime: seconds(word.endMs), Type: 'punctuation', Content: punctuation });
  });
  return {
    ResultId: resultId,
    StartTime: seconds(words[0]?.startMs ?? 0),
    EndTime: seconds(words.at(-1)?.endMs ?? 0),
    IsPartial: isPartial,
    ChannelId: 'ch_0',
    ...(languageCode ? { LanguageCode: languageCode } : {}),
    Alternatives: [{ Transcript: words.map((word) => word.text).join(' '), Items: items }],
  };
}
