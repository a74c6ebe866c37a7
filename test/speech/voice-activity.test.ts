import { describe, expect, it } from 'vitest';
import { VoiceActivityDetector, type VoiceActivityEvent } from '../../src/speech/voice-activity.js';

const FRAME = 160; // 20 ms at 8 kHz

/** A vowel-like frame: a 150 Hz fundamental and two formants. */
function voicedFrame(index: number): Int16Array {
  return Int16Array.from({ length: FRAME }, (_, i) => {
    const t = (index * FRAME + i) / 8_000;
    return Math.round(4_000 * Math.sin(2 * Math.PI * 150 * t) + 2_000 * Math.sin(2 * Math.PI * 700 * t) + 1_000 * Math.sin(2 * Math.PI * 1_200 * t));
  });
}

function noiseFrame(amplitude: number, seed: number): Int16Array {
  let state = seed * 2_654_435_761 + 1;
  return Int16Array.from({ length: FRAME }, () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.round(((state / 2_147_483_648) * 2 - 1) * amplitude);
  });
}

function run(frames: Int16Array[]): VoiceActivityEvent[] {
  const detector = new VoiceActivityDetector();
  return frames.map((frame) => detector.push(frame)).filter((event) => event !== undefined);
}

describe('voice activity', () => {
  it('raises speechStarted within 100 ms of the first voiced frame', () => {
    const frames = [...Array.from({ length: 25 }, (_, i) => noiseFrame(60, i)), ...Array.from({ length: 30 }, (_, i) => voicedFrame(i))];
    const [started] = run(frames);
    expect(started?.type).toBe('speechStarted');
    expect((started!.frame - 25 + 1) * 20).toBeLessThanOrEqual(100);
  });

  it('holds speech across a 200 ms pause and ends it after the hangover', () => {
    const silence = (n: number) => Array.from({ length: n }, () => new Int16Array(FRAME));
    const voice = (n: number) => Array.from({ length: n }, (_, i) => voicedFrame(i));
    const events = run([...silence(10), ...voice(20), ...silence(10), ...voice(20), ...silence(30)]);
    expect(events.map((event) => event.type)).toEqual(['speechStarted', 'speechEnded']);
    expect(events[1]!.frame).toBe(10 + 20 + 10 + 20 + 15 - 1);
  });

  it('does not take steady line noise for speech, even loud hiss', () => {
    expect(run(Array.from({ length: 100 }, (_, i) => noiseFrame(200, i)))).toEqual([]);
    expect(run([...Array.from({ length: 50 }, (_, i) => noiseFrame(800, i))]).filter((e) => e.type === 'speechStarted').length).toBeLessThanOrEqual(1);
  });

  it('ignores a single click', () => {
    const click = new Int16Array(FRAME);
    click[3] = 30_000;
    expect(run([new Int16Array(FRAME), click, new Int16Array(FRAME), new Int16Array(FRAME)])).toEqual([]);
  });
});
