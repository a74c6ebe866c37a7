/**
 * The call's side of its boundary with telephony, owned here so the dependency points one way:
 * telephony imports what a call hears and says; the call never imports telephony.
 */

/** What the caller side says, already validated by the telephony layer. */
export type CallerEvent =
  | { type: 'caller.transcript'; text: string; final: boolean; readAt: number }
  | { type: 'caller.speechStarted' }
  | { type: 'caller.played'; id: string }
  | { type: 'caller.dtmf'; digit: string; readAt: number }
  | { type: 'caller.hangup'; reason?: string };

/** The frames a call itself sends to the caller side (telephony adds `ready` and `error`). */
export type CallFrame =
  | { type: 'say'; id: string; turn: number; text: string; last: boolean }
  | { type: 'clear'; turn: number }
  | { type: 'transfer'; to: string; reason?: string }
  | { type: 'hangup'; reason: string };

/** What the call actor emits: every frame leaves the machine as this one event. */
export type CallEmitted = { type: 'frame'; frame: CallFrame };
