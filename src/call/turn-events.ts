import { Observable, type OperatorFunction } from 'rxjs';
import type { ModelEvent } from '../llm/events.js';
import type { StopReason, TokenUsage } from '../llm/messages.js';
import { SentenceSplitter, type SentenceOptions } from '../stream/sentence-splitter.js';
import { toSpeakable } from '../stream/speech.js';
import type { TurnEvent } from './events.js';
import { emptyUsage } from './context.js';

/**
 * One model round as the call sees it: speakable sentences as early as they are decided, the
 * round's reasoning blocks, and a closing `model.done` with the tool uses and usage.
 *
 * The final chunk must carry `last`, and only the end of the stream says which chunk is final.
 * Trailing whitespace is therefore held back until more text follows: a sentence ended by
 * whitespace is then decided one character later, so the round's last sentence always leaves the
 * splitter at completion, where it is known to be last. Reasoning text never reaches the splitter.
 */
export const turnEvents = (options: SentenceOptions = {}): OperatorFunction<ModelEvent, TurnEvent> =>
  (source) =>
    new Observable<TurnEvent>((out) => {
      const splitter = new SentenceSplitter(options);
      const toolUses: Array<{ toolUseId: string; name: string; input: unknown }> = [];
      const reasoning = new Map<number, { text: string; signature?: string; redacted?: Uint8Array }>();
      let heldWhitespace = '';
      let stopReason: StopReason = 'end_turn';
      let usage: TokenUsage = emptyUsage();

      const speak = (sentences: string[], closing: boolean): boolean => {
        const chunks = sentences.map(toSpeakable).filter((chunk) => chunk.length > 0);
        const lastIndex = closing && stopReason !== 'tool_use' ? chunks.length - 1 : -1;
        chunks.forEach((text, index) => {
          out.next({ type: 'model.sentence', text, last: index === lastIndex });
        });
        return lastIndex >= 0;
      };

      return source.subscribe({
        next(event) {
          switch (event.type) {
            case 'text': {
              const body = event.text.trimEnd();
              if (body.length === 0) {
                heldWhitespace += event.text;
                return;
              }
              const pushed = splitter.push(heldWhitespace + body);
              heldWhitespace = event.text.slice(body.length);
              speak(pushed, false);
              return;
            }
            case 'reasoning': {
              const block = reasoning.get(event.index) ?? { text: '' };
              if (event.text) block.text += event.text;
              if (event.signature) block.signature = event.signature;
              if (event.redactedContent) block.redacted = event.redactedContent;
              reasoning.set(event.index, block);
              return;
            }
            case 'toolUse':
              toolUses.push({ toolUseId: event.toolUseId, name: event.name, input: event.input });
              return;
            case 'stop':
              stopReason = event.stopReason;
              return;
            case 'usage':
              usage = event.usage;
              return;
            case 'toolUseStart':
              return;
          }
        },
        error(error) {
          out.error(error);
        },
        complete() {
          for (const block of reasoning.values()) {
            out.next({
              type: 'model.reasoning',
              block: block.redacted !== undefined
                ? { reasoningContent: { redactedContent: block.redacted } }
                : { reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } },
            });
          }
          const saidLast = speak(splitter.flush(), true);
          out.next({ type: 'model.done', stopReason, toolUses, usage, saidLast });
          out.complete();
        },
      });
    });
