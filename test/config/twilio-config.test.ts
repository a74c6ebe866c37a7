import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const problems = (overrides: Record<string, unknown>, env: Record<string, string> = {}): string[] => {
  try {
    loadConfig({ env, overrides });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe('the twilio and speech configuration', () => {
  it('needs the account, the auth token and the public URL once Twilio is on', () => {
    expect(problems({ twilio: { enabled: true } })).toEqual([
      'AYBIZA_TWILIO_ACCOUNT_SID or twilio.accountSid: got nothing — expected a value when twilio.enabled is true',
      'AYBIZA_TWILIO_AUTH_TOKEN or twilio.authToken: got nothing — expected a value when twilio.enabled is true',
      'AYBIZA_TWILIO_PUBLIC_URL or twilio.publicUrl: got nothing — expected a value when twilio.enabled is true',
    ]);
  });

  it('refuses a number mapped to an agent that does not exist, and never shows the auth token', () => {
    const found = problems({ twilio: { numbers: { '+15551230000': 'nobody' } } }, { AYBIZA_TWILIO_AUTH_TOKEN: 'short' });
    expect(found).toEqual([
      'AYBIZA_TWILIO_AUTH_TOKEN: got [hidden] — expected a Twilio auth token (32 characters)',
    ]);
    expect(problems({ twilio: { enabled: true, accountSid: `AC${'a'.repeat(32)}`, authToken: 'x'.repeat(32), publicUrl: 'https://voice.example.com', numbers: { '+15551230000': 'nobody' } } }))
      .toEqual(['twilio.numbers.+15551230000: got "nobody" — expected an agent that exists: default']);
  });

  it('follows bedrock.mode for speech unless told otherwise', () => {
    expect(loadConfig({ env: {} }).speech).toMatchObject({ mode: 'emulator', region: 'us-east-1' });
    expect(loadConfig({ env: { AYBIZA_SPEECH_MODE: 'auto', AWS_PROFILE: 'prod', AWS_REGION: 'eu-west-1' } }).speech).toMatchObject({ mode: 'aws', region: 'eu-west-1' });
    expect(loadConfig({ env: { AYBIZA_SPEECH_MODE: 'emulator', AWS_PROFILE: 'prod', AWS_REGION: 'eu-west-1' } }).speech.mode).toBe('emulator');
  });
});

describe('speech.browserAudio', () => {
  it('is off by default, speaks with Polly and caps a text at 1,000 characters', () => {
    expect(loadConfig({ env: {} }).speech.browserAudio).toEqual({ enabled: false, synthesizer: 'polly', maxChars: 1_000 });
  });

  it('is turned on and given the local voice by AYBIZA_BROWSER_AUDIO and AYBIZA_BROWSER_AUDIO_SYNTHESIZER', () => {
    expect(loadConfig({ env: { AYBIZA_BROWSER_AUDIO: 'true', AYBIZA_BROWSER_AUDIO_SYNTHESIZER: 'espeak' } }).speech.browserAudio)
      .toEqual({ enabled: true, synthesizer: 'espeak', maxChars: 1_000 });
  });

  it('names the synthesizers it knows when given another', () => {
    expect(problems({}, { AYBIZA_BROWSER_AUDIO_SYNTHESIZER: 'festival' })).toEqual([
      'AYBIZA_BROWSER_AUDIO_SYNTHESIZER: got "festival" — expected \'polly\' or \'espeak\'',
    ]);
  });
});
