import { concat, connect, defer, filter, map, merge, mergeMap, of, pipe, tap, type OperatorFunction } from 'rxjs';
import type { ModelEvent } from '../llm/events.js';
import { markLast } from '../stream/mark-last.js';
import { roundSummary, type RoundSummary } from '../stream/round-summary.js';
import { sentences, type SentenceOptions } from '../stream/sentences.js';
import { speakable } from '../stream/speech.js';
import { holdTrailingWhitespace } from '../stream/trailing-whitespace.js';
import type { TurnEvent } from './events.js';

/** The round's words: text deltas, split into sentences as early as they are decided, cleaned for speech. */
const spokenChunks = (options: SentenceOptions): OperatorFunction<ModelEvent, string> =>
  pipe(
    filter((event): event is Extract<ModelEvent, { type: 'text' }> => event.type === 'text'),
    map((event) => event.text),
    holdTrailingWhitespace(),
    sentences({ ...options, settleOnError: false }),
    speakable(),
  );

/**
 * One model round as the call sees it: speakable sentences as early as they are decided, then at
 * the end the round's reasoning blocks, its final sentences (the last one marked `last` unless the
 * round goes on to tools) and a closing `model.done` with the tool uses and usage.
 */
export const turnEvents = (options: SentenceOptions = {}): OperatorFunction<ModelEvent, TurnEvent> =>
  (source) =>
    defer(() => {
      let summary: RoundSummary | undefined;
      let saidLast = false;
      const done = defer(() => {
        if (!summary) return of<TurnEvent>();
        const { stopReason, toolUses, usage } = summary;
        return of<TurnEvent>({ type: 'model.done', stopReason, toolUses, usage, saidLast });
      });
      const round = source.pipe(
        connect((events) =>
          merge(
            // Subscribed first, so the summary is known when the words' stream completes.
            events.pipe(
              roundSummary(),
              tap((collected) => (summary = collected)),
              mergeMap((collected) => collected.reasoning.map((block): TurnEvent => ({ type: 'model.reasoning', block }))),
            ),
            events.pipe(
              markLast(spokenChunks(options), () => summary?.stopReason !== 'tool_use'),
              map((chunk): TurnEvent => {
                saidLast ||= chunk.last;
                return { type: 'model.sentence', text: chunk.text, last: chunk.last };
              }),
            ),
          )),
      );
      return concat(round, done);
    });
