import { filter, map, pipe, type OperatorFunction } from 'rxjs';

// Markdown and symbols a TTS engine would read aloud or stumble over, in the order they are removed.
const CODE_FENCE = /```[\w+-]*/g;
const IMAGE = /!\[([^\]]*)\]\([^)]*\)/g;
const LINK = /\[([^\]]+)\]\([^)]*\)/g;
const AUTOLINK = /<((?:https?:\/\/|mailto:)[^>\s]+)>/g;
const HEADING = /^\s*#{1,6}\s+/;
const BLOCKQUOTE = /^\s*(?:>\s*)+/;
const BULLET = /^\s*[-*+•]\s+/;
const HORIZONTAL_RULE = /^\s*(?:[-*_]\s*){3,}$/;
const EMPHASIS = /\*+|~~|__/g;
const UNDERSCORE_EMPHASIS = /(^|[^\p{L}\p{N}_])_([^_\n]+)_(?![\p{L}\p{N}_])/gu;
const INLINE_CODE = /`+/g;
const EMOJI = /[\p{Extended_Pictographic}\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\uFE0E\uFE0F\u200D\u20E3]/gu;
const AMPERSAND = /\s*&\s*/g;
const SPACES = /\s+/g;
const SPEAKABLE = /[\p{L}\p{N}]/u;

/**
 * One chunk as a TTS engine should receive it: markdown reduced to its words (links to their text),
 * emoji dropped, `&` said as "and", numbers left as digits because engines read them well.
 * Returns '' when nothing speakable remains.
 */
export function toSpeakable(chunk: string): string {
  if (HORIZONTAL_RULE.test(chunk)) return '';
  const text = chunk
    .replace(CODE_FENCE, ' ')
    .replace(IMAGE, '$1')
    .replace(LINK, '$1')
    .replace(AUTOLINK, '$1')
    .replace(HEADING, '')
    .replace(BLOCKQUOTE, '')
    .replace(BULLET, '')
    .replace(EMPHASIS, '')
    .replace(UNDERSCORE_EMPHASIS, '$1$2')
    .replace(INLINE_CODE, '')
    .replace(EMOJI, '')
    .replace(AMPERSAND, ' and ')
    .replace(SPACES, ' ')
    .trim();
  return SPEAKABLE.test(text) ? text : '';
}

/** Chunks in, TTS-ready text out; chunks with nothing left to say are dropped. */
export const speakable = (): OperatorFunction<string, string> =>
  pipe(
    map(toSpeakable),
    filter((text) => text.length > 0),
  );
