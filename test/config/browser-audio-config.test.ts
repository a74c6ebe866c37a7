import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('speech.browserAudio', () => {
  it('is off by default, speaks with Polly and caps a text at 1,000 characters', () => {
    expect(loadConfig({ env: {} }).speech.browserAudio).toEqual({ enabled: false, synthesizer: 'polly', maxChars: 1_000 });
  });

  it('is turned on and given the local voice by AYBIZA_BROWSER_AUDIO and AYBIZA_BROWSER_AUDIO_SYNTHESIZER', () => {
    expect(loadConfig({ env: { AYBIZA_BROWSER_AUDIO: 'true', AYBIZA_BROWSER_AUDIO_SYNTHESIZER: 'espeak' } }).speech.browserAudio)
      .toEqual({ enabled: true, synthesizer: 'espeak', maxChars: 1_000 });
  });

  it('names the synthesizers it knows when given another', () => {
    expect(problems({ AYBIZA_BROWSER_AUDIO_SYNTHESIZER: 'festival' })).toEqual([
      'AYBIZA_BROWSER_AUDIO_SYNTHESIZER: got "festival" — expected \'polly\' or \'espeak\'',
    ]);
  });
});
