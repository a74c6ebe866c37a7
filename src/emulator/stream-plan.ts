import type { PlannedAnswer } from './answer.js';
import type { StreamEventName, StreamExceptionName } from './event-frames.js';
import { FAULT_MESSAGES } from './bedrock-errors.js';
import type { StreamFault } from './faults.js';
import { firstSentenceEnd, jsonPieces, textPieces } from './token-pieces.js';

export type StepFrame =
  | { type: 'event'; name: StreamEventName; payload: unknown }
  | { type: 'exception'; name: StreamExceptionName; payload: { message: string } & Record<string, unknown> }
  | { type: 'corrupt'; name: StreamEventName; payload: unknown }
  /** The closing `metadata` event; its latency is the real elapsed time, known only when it is written. */
  | { type: 'metadata'; usage: Record<string, number> };

/** One frame of a stream and when to send it, in ms after the request arrived. */
export interface StreamStep {
  atMs: number;
  frame: StepFrame;
  /** A content delta: first and last ones time the request's first and last token. */
  delta?: true;
  /** The delta that carries the first `.`, `!` or `?` of the reply text. */
  sentenceEnd?: true;
}

export interface StreamTiming {
  ttftMs: number;
  tokensPerSecond: number;
  fault?: StreamFault;
  stallMs: number;
  usage: Record<string, number>;
  /** The reasoning block's signature (opaque to clients, sent back with the block). */
  signature: string;
  /** Base64 of the redacted blob, when the reasoning goes out redacted. */
  redactedContent?: string;
  toolUseStreaming: 'sequential' | 'interleaved';
}

/**
 * Lays an answer out as timed frames: `messageStart` at the TTFT, then reasoning, text and tool
 * input deltas one token interval apart, then `messageStop` and `metadata`. Parallel tool uses
 * stream one block after another, or interleaved when the script asks (clients must survive both).
 */
export function planStream(answer: PlannedAnswer, timing: StreamTiming): StreamStep[] {
  const interval = 1_000 / timing.tokensPerSecond;
  const steps: StreamStep[] = [];
  let at = timing.ttftMs;
  let index = 0;
  const event = (name: StreamEventName, payload: unknown, extra: Partial<StreamStep> = {}) =>
    steps.push({ atMs: at, frame: { type: 'event', name, payload }, ...extra });

  event('messageStart', { role: 'assistant' });

  if (answer.thinking && timing.redactedContent) {
    event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { redactedContent: timing.redactedContent } } }, { delta: true });
    event('contentBlockStop', { contentBlockIndex: index });
    index += 1;
  } else if (answer.thinking) {
    for (const text of textPieces(answer.thinking)) {
      event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text } } }, { delta: true });
      at += interval;
    }
    event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature: timing.signature } } }, { delta: true });
    event('contentBlockStop', { contentBlockIndex: index });
    index += 1;
  }

  if (answer.text) {
    const sentenceEnd = firstSentenceEnd(answer.text);
    let sent = 0;
    for (const text of textPieces(answer.text)) {
      const endsSentence = sentenceEnd >= sent && sentenceEnd < sent + text.length;
      event('contentBlockDelta', { contentBlockIndex: index, delta: { text } }, endsSentence ? { delta: true, sentenceEnd: true } : { delta: true });
      sent += text.length;
      at += interval;
    }
    event('contentBlockStop', { contentBlockIndex: index });
    index += 1;
  }

  const tools = answer.toolUses.map((use, offset) => ({ use, blockIndex: index + offset, pieces: jsonPieces(JSON.stringify(use.input)) }));
  const start = ({ use, blockIndex }: (typeof tools)[number]) =>
    event('contentBlockStart', { contentBlockIndex: blockIndex, start: { toolUse: { toolUseId: use.toolUseId, name: use.name } } });
  const delta = (blockIndex: number, input: string) =>
    event('contentBlockDelta', { contentBlockIndex: blockIndex, delta: { toolUse: { input } } }, { delta: true });
  if (timing.toolUseStreaming === 'interleaved') {
    tools.forEach(start);
    const longest = Math.max(0, ...tools.map((tool) => tool.pieces.length));
    for (let piece = 0; piece < longest; piece++) {
      for (const { blockIndex, pieces } of tools) {
        const input = pieces[piece];
        if (input !== undefined) delta(blockIndex, input);
      }
      at += interval;
    }
    for (const { blockIndex } of tools) event('contentBlockStop', { contentBlockIndex: blockIndex });
  } else {
    for (const tool of tools) {
      start(tool);
      for (const input of tool.pieces) {
        delta(tool.blockIndex, input);
        at += interval;
      }
      event('contentBlockStop', { contentBlockIndex: tool.blockIndex });
    }
  }

  event('messageStop', { stopReason: answer.stopReason });
  steps.push({ atMs: at, frame: { type: 'metadata', usage: timing.usage } });
  return applyStreamFault(steps, timing);
}

const MID_STREAM_MESSAGE = 'The system encountered an unexpected error during processing. Try your request again.';

function midStreamException(fault: 'midStreamError' | 'inStreamThrottle' | 'inStreamInternalError' | 'inStreamUnavailable' | 'inStreamValidation'): StepFrame {
  switch (fault) {
    case 'inStreamThrottle':
      return { type: 'exception', name: 'throttlingException', payload: { message: 'Too many requests, please wait before trying again.' } };
    case 'inStreamInternalError':
      return { type: 'exception', name: 'internalServerException', payload: { message: FAULT_MESSAGES.inStreamInternalError } };
    case 'inStreamUnavailable':
      return { type: 'exception', name: 'serviceUnavailableException', payload: { message: FAULT_MESSAGES.inStreamUnavailable } };
    case 'inStreamValidation':
      return { type: 'exception', name: 'validationException', payload: { message: FAULT_MESSAGES.inStreamValidation } };
    case 'midStreamError':
      return { type: 'exception', name: 'modelStreamErrorException', payload: { message: MID_STREAM_MESSAGE, originalStatusCode: 500, originalMessage: MID_STREAM_MESSAGE } };
  }
}

function applyStreamFault(steps: StreamStep[], timing: StreamTiming): StreamStep[] {
  const deltas = steps.flatMap((step, position) => (step.delta ? [position] : []));
  const firstDelta = deltas[0] ?? 0;
  switch (timing.fault) {
    case 'stall':
      return steps.map((step, position) => (position > firstDelta ? { ...step, atMs: step.atMs + timing.stallMs } : step));
    case 'midStreamError':
    case 'inStreamThrottle':
    case 'inStreamInternalError':
    case 'inStreamUnavailable':
    case 'inStreamValidation': {
      const cut = (deltas[Math.ceil(deltas.length / 2) - 1] ?? 0) + 1;
      return [...steps.slice(0, cut), { atMs: steps[cut]?.atMs ?? steps.at(-1)!.atMs, frame: midStreamException(timing.fault) }];
    }
    case 'corrupt': {
      const next = steps[firstDelta + 1] ?? steps.at(-1)!;
      const frame = next.frame.type === 'event' ? next.frame : { name: 'contentBlockStop' as const, payload: { contentBlockIndex: 0 } };
      return [...steps.slice(0, firstDelta + 1), { atMs: next.atMs, frame: { type: 'corrupt', name: frame.name, payload: frame.payload } }];
    }
    default:
      return steps;
  }
}
