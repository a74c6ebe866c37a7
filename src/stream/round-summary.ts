import { Observable, type OperatorFunction } from 'rxjs';
import type { ModelEvent } from '../llm/events.js';
import { emptyUsage, type ContentBlock, type StopReason, type TokenUsage } from '../llm/messages.js';

/** What one model round leaves besides its words: reasoning blocks, tool uses, why it stopped, and its usage. */
export interface RoundSummary {
  reasoning: ContentBlock[];
  toolUses: Array<{ toolUseId: string; name: string; input: unknown }>;
  stopReason: StopReason;
  usage: TokenUsage;
}

/**
 * Model events in, one summary out when the round completes. Reasoning deltas are joined per
 * content block (with their signature, or the redacted content), in block order.
 */
export const roundSummary = (): OperatorFunction<ModelEvent, RoundSummary> =>
  (source) =>
    new Observable<RoundSummary>((out) => {
      const reasoning = new Map<number, { text: string; signature?: string; redacted?: Uint8Array }>();
      const toolUses: RoundSummary['toolUses'] = [];
      let stopReason: StopReason = 'end_turn';
      let usage: TokenUsage = emptyUsage();
      return source.subscribe({
        next: (event) => {
          switch (event.type) {
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
            case 'text':
            case 'toolUseStart':
              return;
          }
        },
        error: (error: unknown) => out.error(error),
        complete: () => {
          out.next({
            reasoning: [...reasoning.values()].map((block): ContentBlock => (block.redacted !== undefined
              ? { reasoningContent: { redactedContent: block.redacted } }
              : { reasoningContent: { reasoningText: { text: block.text, signature: block.signature } } })),
            toolUses,
            stopReason,
            usage,
          });
          out.complete();
        },
      });
    });
