import { Observable, type OperatorFunction } from 'rxjs';
import { SentenceSplitter, type SentenceOptions } from './sentence-splitter.js';

export type { SentenceOptions };

export interface SentencesOptions extends SentenceOptions {
  /**
   * On error, emit the sentence that was complete but awaiting its lookahead (the default). A
   * model round that fails says nothing more: its retry continues from what the caller heard.
   */
  settleOnError?: boolean;
}

/**
 * Model text deltas in, speakable-sized chunks out: complete sentences (or, for the first chunk of
 * the turn, an early clause), trimmed, each emitted as soon as the delta deciding it arrives.
 * On completion the rest is flushed. On error only what was complete is emitted (or nothing, without
 * `settleOnError`), then the error: an unfinished tail would be spoken cut off mid-thought.
 */
export const sentences = ({ settleOnError = true, ...options }: SentencesOptions = {}): OperatorFunction<string, string> =>
  (source) =>
    new Observable<string>((out) => {
      const splitter = new SentenceSplitter(options);
      return source.subscribe({
        next: (delta) => {
          for (const chunk of splitter.push(delta)) out.next(chunk);
        },
        error: (error: unknown) => {
          if (settleOnError) for (const chunk of splitter.settle()) out.next(chunk);
          out.error(error);
        },
        complete: () => {
          for (const chunk of splitter.flush()) out.next(chunk);
          out.complete();
        },
      });
    });
