import type { ScenarioPacing } from './scenario.js';

/**
 * How a simulated caller times its side of a call. `phone`: in real time, at the scenario's
 * `pacing` (words spoken at ~150 a minute with partial transcripts as they come, endpointing, the
 * answer heard at ~165 words a minute), so a call takes a turn every 8–12 s as on a phone line and
 * holds a server's call slot as long as a real one. `fast`: the words at once and the answer heard
 * at 60 ms a word (about 1,000 words a minute), a turn every 2–2.5 s: for stress, and for tests.
 */
export const PACES = ['phone', 'fast'] as const;
export type Pace = (typeof PACES)[number];

/** `fast`'s playback: quick enough for stress, long enough that barge-ins still land mid-answer. */
export const FAST_PLAYBACK_MS_PER_WORD = 60;

/** One call's timings, resolved from the pace, the scenario's `pacing` and any playback override. */
export interface CallPacing {
  /** How long each of the caller's words takes to say; 0 sends the whole utterance at once. */
  callerMsPerWord: number;
  partialEveryMs: number;
  endpointingMs: number;
  /** How long the caller takes to hear each word of an answer before acknowledging it as `played`. */
  playbackMsPerWord: number;
}

export function callPacing(pacing: ScenarioPacing, pace: Pace, playbackMsPerWord?: number): CallPacing {
  const resolved = pace === 'fast'
    ? { callerMsPerWord: 0, partialEveryMs: 0, endpointingMs: 0, playbackMsPerWord: FAST_PLAYBACK_MS_PER_WORD }
    : {
        callerMsPerWord: 60_000 / pacing.callerWordsPerMinute,
        partialEveryMs: pacing.partialEveryMs,
        endpointingMs: pacing.endpointingMs,
        playbackMsPerWord: 60_000 / pacing.agentWordsPerMinute,
      };
  return playbackMsPerWord === undefined ? resolved : { ...resolved, playbackMsPerWord };
}

export type UtteranceFrame = { type: 'speech_started' } | { type: 'transcript'; text: string; final: boolean };

/** A frame of the caller's and when to send it, in ms after the caller starts speaking. */
export interface TimedFrame {
  atMs: number;
  frame: UtteranceFrame;
}

/**
 * What a speech-to-text engine sends while the caller says `text`: `speech_started`, then the
 * words heard so far every `partialEveryMs` while speaking (a word counts from when it begins,
 * as a recognizer shows the word it is hearing), then the final transcript `endpointingMs` after
 * the last word ends. At the fast pace everything is sent at once, with one or two growing
 * prefixes as partials, as the runner always did.
 */
export function utteranceFrames(text: string, pacing: CallPacing, random: () => number): TimedFrame[] {
  const words = wordsOf(text);
  const at = (atMs: number, frame: UtteranceFrame): TimedFrame => ({ atMs, frame });
  const final = (atMs: number) => at(atMs, { type: 'transcript', text, final: true });
  if (pacing.callerMsPerWord === 0) {
    return [at(0, { type: 'speech_started' }), ...quickPartials(words, random).map((partial) => at(0, partial)), final(0)];
  }
  const speakingMs = words.length * pacing.callerMsPerWord;
  const frames = [at(0, { type: 'speech_started' })];
  for (let atMs = pacing.partialEveryMs; atMs < speakingMs; atMs += pacing.partialEveryMs) {
    const heard = Math.min(words.length, Math.floor(atMs / pacing.callerMsPerWord) + 1);
    frames.push(at(atMs, { type: 'transcript', text: words.slice(0, heard).join(' '), final: false }));
  }
  frames.push(final(Math.round(speakingMs + pacing.endpointingMs)));
  return frames;
}

/** Time as the caller lives it: the real clock, or a virtual one that tests of the pacing step through. */
export interface CallerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: CallerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/** Sends each frame at its time, counted from `startedAt`; a frame already due goes at once. */
export async function sendOnTime(frames: TimedFrame[], startedAt: number, clock: CallerClock, send: (frame: UtteranceFrame) => void): Promise<void> {
  for (const { atMs, frame } of frames) {
    const wait = startedAt + atMs - clock.now();
    if (wait > 0) await clock.sleep(wait);
    send(frame);
  }
}

/** Plays the chunks of an answer one after another, acknowledging each as `played` when its simulated audio ends. */
export async function playBack(
  chunks: Array<{ id: string; text: string }>, pacing: CallPacing, clock: CallerClock, send: (frame: { type: 'played'; id: string }) => void,
): Promise<void> {
  for (const chunk of chunks) {
    const ms = playbackMs(chunk.text, pacing);
    if (ms > 0) await clock.sleep(ms);
    send({ type: 'played', id: chunk.id });
  }
}

/** How long the caller takes to hear one chunk of an answer. */
export const playbackMs = (text: string, pacing: CallPacing): number => Math.round(wordsOf(text).length * pacing.playbackMsPerWord);

const wordsOf = (text: string): string[] => text.split(/\s+/).filter(Boolean);

/** One or two growing prefixes of the utterance, the fast pace's partial transcripts. */
function quickPartials(words: string[], random: () => number): UtteranceFrame[] {
  if (words.length < 2) return [];
  const count = words.length > 3 && random() < 0.5 ? 2 : 1;
  return Array.from({ length: count }, (_, index) => ({
    type: 'transcript' as const,
    text: words.slice(0, Math.ceil(((index + 1) * words.length) / (count + 1))).join(' '),
    final: false,
  }));
}
