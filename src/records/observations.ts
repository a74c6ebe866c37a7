import type { StopReason, TokenUsage } from '../llm/messages.js';

/** Which model and region one request asked. */
export interface ModelTarget {
  modelId: string;
  region: string;
}

/**
 * What the runtime reports about a call as it happens, in the order it happens. The call record
 * (`call-record.ts`), the live inspector's event stream and the traces are all built from these;
 * times are epoch milliseconds.
 */
export type CallObservation =
  | { type: 'call.started'; at: number; agent: string; from?: string; to?: string; resumed: boolean }
  /** The machine's state as a dotted path under its root (`responding.generating.thinking`). */
  | { type: 'state'; at: number; state: string }
  /** The caller's final words were read at `at`; a turn that superseded an unanswered one keeps its number. */
  | { type: 'turn.started'; at: number; turn: number; words: string }
  | { type: 'history.read'; turn: number; round: number; startedAt: number; endedAt: number; messages: number }
  | { type: 'model.request'; at: number; turn: number; round: number; target: ModelTarget; cached: boolean }
  | { type: 'model.firstEvent'; at: number; turn: number; round: number }
  | { type: 'model.firstSentence'; at: number; turn: number; round: number }
  | { type: 'model.done'; at: number; turn: number; round: number; stopReason: StopReason | undefined; usage: TokenUsage; costUsd: number }
  | { type: 'model.failed'; at: number; turn: number; round: number; code: string; message: string }
  | {
      type: 'fallback';
      at: number;
      turn: number;
      from: ModelTarget;
      /** Absent when the hop is the agent's canned answer. */
      to?: ModelTarget;
      hop: 'region' | 'model' | 'canned';
      reason: string;
      code: string;
    }
  | {
      type: 'tool';
      turn: number;
      round: number;
      toolUseId: string;
      name: string;
      input: unknown;
      outcome: string;
      result: unknown;
      startedAt: number;
      endedAt: number;
    }
  | { type: 'say'; at: number; turn: number; id: string; text: string; last: boolean }
  | { type: 'played'; at: number; id: string }
  /** An audio line's speech-to-text: from the caller's last voiced frame to the final transcript. */
  | { type: 'speech.transcribed'; startedAt: number; endedAt: number; chars: number }
  /** An audio line's text-to-speech of one chunk: requested, first audio byte, last audio byte. */
  | { type: 'speech.synthesized'; startedAt: number; firstByteAt: number; endedAt: number; chars: number; cached: boolean }
  | { type: 'call.ended'; at: number; outcome: string; endReason?: string };

/** Where observations go: the call records, and the traces when they are on. */
export type CallObserver = (callId: string, observation: CallObservation) => void;

/** Fans one observation out to every observer; one observer's bug never reaches the call. */
export function observers(...targets: Array<CallObserver | undefined>): CallObserver {
  const present = targets.filter((target): target is CallObserver => target !== undefined);
  return (callId, observation) => {
    for (const target of present) {
      try {
        target(callId, observation);
      } catch {
        // Observing is best effort: the call goes on whatever an observer does.
      }
    }
  };
}
