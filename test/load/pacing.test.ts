import { describe, expect, it } from 'vitest';
import {
  callPacing, playBack, sendOnTime, utteranceFrames, type CallerClock, type CallPacing, type TimedFrame,
} from '../../src/load/pacing.js';
import { parseScenario } from '../../src/load/scenario.js';

/** A clock that only moves when the caller sleeps: every send is stamped with the time it was scheduled for. */
function virtualClock(startMs = 0): CallerClock {
  let now = startMs;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

/** What the caller sends and when, through `sendOnTime` on the virtual clock. */
async function sent(frames: TimedFrame[], clock: CallerClock, startedAt = 0): Promise<TimedFrame[]> {
  const out: TimedFrame[] = [];
  await sendOnTime(frames, startedAt, clock, (frame) => out.push({ atMs: clock.now(), frame }));
  return out;
}

const defaults = parseScenario({ name: 'paced', caller: [{ hangup: true }] }, 'paced.json').pacing;
const phone = callPacing(defaults, 'phone');
const partial = (atMs: number, text: string): TimedFrame => ({ atMs, frame: { type: 'transcript', text, final: false } });
const final = (atMs: number, text: string): TimedFrame => ({ atMs, frame: { type: 'transcript', text, final: true } });
const speechStarted = (atMs: number): TimedFrame => ({ atMs, frame: { type: 'speech_started' } });
const neverCalled = () => {
  throw new Error('the phone pace draws no random numbers');
};

describe('phone pacing', () => {
  it('defaults to 150 words a minute, a partial every 250 ms, 300 ms endpointing and answers heard at 165 words a minute', () => {
    expect(defaults).toEqual({ callerWordsPerMinute: 150, partialEveryMs: 250, endpointingMs: 300, agentWordsPerMinute: 165 });
    expect(phone).toEqual({ callerMsPerWord: 400, partialEveryMs: 250, endpointingMs: 300, playbackMsPerWord: 60_000 / 165 });
  });

  it('sends the words heard so far every 250 ms while the caller speaks, and the final 300 ms after the last word', async () => {
    // Six words at 400 ms each: speaking ends at 2,400 ms; a word counts from when it begins.
    const text = 'Hi, what are your opening hours?';
    expect(await sent(utteranceFrames(text, phone, neverCalled), virtualClock())).toEqual([
      speechStarted(0),
      partial(250, 'Hi,'),
      partial(500, 'Hi, what'),
      partial(750, 'Hi, what'),
      partial(1_000, 'Hi, what are'),
      partial(1_250, 'Hi, what are your'),
      partial(1_500, 'Hi, what are your'),
      partial(1_750, 'Hi, what are your opening'),
      partial(2_000, 'Hi, what are your opening hours?'),
      partial(2_250, 'Hi, what are your opening hours?'),
      final(2_700, text),
    ]);
  });

  it('follows the scenario\'s own rates, cadence and endpointing', async () => {
    const slow = callPacing({ callerWordsPerMinute: 120, partialEveryMs: 200, endpointingMs: 500, agentWordsPerMinute: 165 }, 'phone');
    expect(await sent(utteranceFrames('Hello there', slow, neverCalled), virtualClock())).toEqual([
      speechStarted(0), partial(200, 'Hello'), partial(400, 'Hello'), partial(600, 'Hello there'), partial(800, 'Hello there'), final(1_500, 'Hello there'),
    ]);
  });

  it('sends at once the frames already due when the caller was held up (waiting for the `clear` of a barge-in)', async () => {
    const frames = utteranceFrames('Sorry, I mean Saturday.', phone, neverCalled).slice(1);
    // Speech started at 0; the clear came at 600 ms: the partials of 250 and 500 ms go then, the rest on time.
    expect(await sent(frames, virtualClock(600), 0)).toEqual([
      partial(600, 'Sorry,'), partial(600, 'Sorry, I'), partial(750, 'Sorry, I'), partial(1_000, 'Sorry, I mean'),
      partial(1_250, 'Sorry, I mean Saturday.'), partial(1_500, 'Sorry, I mean Saturday.'), final(1_900, 'Sorry, I mean Saturday.'),
    ]);
  });

  it('acknowledges each chunk of an answer as played when its words have been heard at 165 a minute', async () => {
    const clock = virtualClock();
    const played: Array<{ atMs: number; id: string }> = [];
    await playBack(
      [{ id: 'c1', text: 'We are open Monday to Friday.' }, { id: 'c2', text: 'Anything else?' }],
      phone, clock, (frame) => played.push({ atMs: clock.now(), id: frame.id }),
    );
    // 6 words × 363.6 ms = 2,182 ms, then 2 words = 727 ms more.
    expect(played).toEqual([{ atMs: 2_182, id: 'c1' }, { atMs: 2_909, id: 'c2' }]);
  });

  it('lets --playback-ms-per-word replace the pace\'s playback and nothing else', () => {
    expect(callPacing(defaults, 'phone', 100)).toEqual({ ...phone, playbackMsPerWord: 100 });
    expect(callPacing(defaults, 'fast', 0)).toEqual({ callerMsPerWord: 0, partialEveryMs: 0, endpointingMs: 0, playbackMsPerWord: 0 });
  });
});

describe('fast pacing', () => {
  const fast: CallPacing = callPacing(defaults, 'fast');

  it('sends speech_started, one or two growing partials and the final all at once, and hears 60 ms a word', async () => {
    expect(fast.playbackMsPerWord).toBe(60);
    expect(await sent(utteranceFrames('Can you check my account?', fast, () => 0.2), virtualClock())).toEqual([
      speechStarted(0), partial(0, 'Can you'), partial(0, 'Can you check my'), final(0, 'Can you check my account?'),
    ]);
    expect(utteranceFrames('Can you check my account?', fast, () => 0.7).map(({ frame }) => frame)).toEqual([
      { type: 'speech_started' },
      { type: 'transcript', text: 'Can you check', final: false },
      { type: 'transcript', text: 'Can you check my account?', final: true },
    ]);
  });
});
