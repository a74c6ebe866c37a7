import {
  ConverseStreamCommand,
  type BedrockRuntimeClient,
  type ConverseStreamCommandInput,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { Observable } from 'rxjs';
import type { ModelEvent } from './events.js';
import type { StopReason } from './messages.js';
import { MalformedToolInputError, StreamTimeoutError, toModelCallError } from './error-mapping.js';

export interface ConverseStreamOptions {
  /** Longest silence allowed between two stream events once the first has arrived. */
  idleTimeoutMs: number;
  /** Longest wait from sending the request to the first stream event (covers SDK retries). */
  firstEventTimeoutMs: number;
}

interface PendingToolUse {
  toolUseId: string;
  name: string;
  inputJson: string;
}

/**
 * Turns wire events into ModelEvents. Tool input arrives as partial JSON pieces that parallel
 * tool uses interleave, so pieces are kept per content block index and parsed at that block's stop.
 * One instance per subscription.
 */
export class ModelEventMapper {
  private readonly pendingTools = new Map<number, PendingToolUse>();

  map(event: ConverseStreamOutput): ModelEvent[] {
    if (event.contentBlockStart) {
      const index = event.contentBlockStart.contentBlockIndex ?? 0;
      const toolUse = event.contentBlockStart.start?.toolUse;
      if (!toolUse?.toolUseId || !toolUse.name) return [];
      this.pendingTools.set(index, { toolUseId: toolUse.toolUseId, name: toolUse.name, inputJson: '' });
      return [{ type: 'toolUseStart', index, toolUseId: toolUse.toolUseId, name: toolUse.name }];
    }
    if (event.contentBlockDelta) return this.mapDelta(event.contentBlockDelta);
    if (event.contentBlockStop) return this.finishBlock(event.contentBlockStop.contentBlockIndex ?? 0);
    if (event.messageStop) {
      return [{ type: 'stop', stopReason: (event.messageStop.stopReason ?? 'end_turn') as StopReason }];
    }
    if (event.metadata) {
      const usage = event.metadata.usage;
      return [{
        type: 'usage',
        usage: {
          inputTokens: usage?.inputTokens ?? 0,
          outputTokens: usage?.outputTokens ?? 0,
          cacheReadInputTokens: usage?.cacheReadInputTokens ?? 0,
          cacheWriteInputTokens: usage?.cacheWriteInputTokens ?? 0,
        },
        latencyMs: event.metadata.metrics?.latencyMs ?? 0,
      }];
    }
    const exception = event.throttlingException ?? event.modelStreamErrorException ?? event.internalServerException
      ?? event.serviceUnavailableException ?? event.validationException;
    if (exception) throw exception;
    return [];
  }

  private mapDelta(block: NonNullable<ConverseStreamOutput['contentBlockDelta']>): ModelEvent[] {
    const index = block.contentBlockIndex ?? 0;
    const delta = block.delta;
    if (!delta) return [];
    if (delta.text !== undefined) return [{ type: 'text', index, text: delta.text }];
    if (delta.toolUse) {
      const pending = this.pendingTools.get(index);
      if (!pending) throw new MalformedToolInputError('(no contentBlockStart)', index, 'tool input arrived for a block that never started');
      pending.inputJson += delta.toolUse.input ?? '';
      return [];
    }
    const reasoning = delta.reasoningContent;
    if (reasoning) {
      if (reasoning.text !== undefined) return [{ type: 'reasoning', index, text: reasoning.text }];
      if (reasoning.signature !== undefined) return [{ type: 'reasoning', index, signature: reasoning.signature }];
      if (reasoning.redactedContent !== undefined) {
        // A blob: kept as the bytes, since the SDK base64-encodes whatever it is handed on the way back.
        return [{ type: 'reasoning', index, redactedContent: Uint8Array.from(reasoning.redactedContent) }];
      }
    }
    return [];
  }

  private finishBlock(index: number): ModelEvent[] {
    const pending = this.pendingTools.get(index);
    if (!pending) return [];
    this.pendingTools.delete(index);
    return [{ type: 'toolUse', index, toolUseId: pending.toolUseId, name: pending.name, input: parseToolInput(pending, index) }];
  }
}

function parseToolInput(pending: PendingToolUse, index: number): unknown {
  // A tool called without arguments streams no input at all.
  if (pending.inputJson.trim() === '') return {};
  try {
    return JSON.parse(pending.inputJson);
  } catch (error) {
    throw new MalformedToolInputError(pending.name, index, (error as Error).message);
  }
}

/** Fires once after `ms` unless pushed back or cleared; one per subscription. */
class SilenceTimer {
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly onSilence: (error: StreamTimeoutError) => void) {}
  arm(phase: StreamTimeoutError['phase'], ms: number): void {
    this.clear();
    this.timer = setTimeout(() => this.onSilence(new StreamTimeoutError(phase, ms)), ms);
  }
  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * One ConverseStream call as a cold Observable: each subscription sends the request, emits the
 * answer as ModelEvents, and completes after the last wire event. Every failure arrives as a
 * ModelCallError. Unsubscribing aborts the HTTP request, so a barge-in leaves no orphan stream.
 */
export function converseStream(
  client: BedrockRuntimeClient,
  request: ConverseStreamCommandInput,
  options: ConverseStreamOptions,
): Observable<ModelEvent> {
  return new Observable<ModelEvent>((subscriber) => {
    const abort = new AbortController();
    const mapper = new ModelEventMapper();
    let emitted = 0;
    let finished = false;
    const fail = (error: unknown): void => {
      timer.clear();
      if (subscriber.closed) return;
      subscriber.error(toModelCallError(error, emitted > 0));
      abort.abort();
    };
    const timer = new SilenceTimer(fail);
    timer.arm('first-event', options.firstEventTimeoutMs);

    const pump = async (): Promise<void> => {
      const response = await client.send(new ConverseStreamCommand(request), { abortSignal: abort.signal });
      if (!response.stream) throw new Error('ConverseStream answered without an event stream');
      for await (const event of response.stream) {
        if (subscriber.closed) return;
        timer.arm('idle', options.idleTimeoutMs);
        for (const modelEvent of mapper.map(event)) {
          emitted += 1;
          subscriber.next(modelEvent);
        }
      }
      finished = true;
      timer.clear();
      subscriber.complete();
    };
    pump().catch(fail);

    return () => {
      timer.clear();
      // Aborting a finished request could destroy a keep-alive socket that is back in the pool.
      if (!finished) abort.abort();
    };
  });
}
