import { PollyClient, SynthesizeSpeechCommand } from '@aws-sdk/client-polly';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPollyEmulator, type RunningPollyEmulator } from '../../src/emulator/polly/server.js';
import { isNonTerminalAbbreviation, spokenSentences, textForSpeech } from '../../src/speech/text-for-speech.js';

describe('text for speech', () => {
  it('does not end a sentence at the abbreviations put before numbers and in ranges', () => {
    expect(spokenSentences('Call ext. 204 for billing. We are open Mon.–Fri. from 9 to 5. Apt. 3 is upstairs.')).toEqual([
      'Call ext. 204 for billing.',
      'We are open Mon.–Fri. from 9 to 5.',
      'Apt. 3 is upstairs.',
    ]);
    expect(isNonTerminalAbbreviation('Tue.')).toBe(true);
    expect(isNonTerminalAbbreviation('done.')).toBe(false);
  });

  // Plain text: what every synthesizer is given, and all Polly gets when no say-as is needed.
  it.each([
    ['abbreviations in full', 'Dr. Okafor sees patients Tue. and Thu. at 12 Harbor St., Ste. 4', 'doctor Okafor sees patients Tuesday and Thursday at 12 Harbor street, suite 4'],
    ['a weekday range', 'Mon.–Fri.', 'Monday to Friday'],
    ['"No." before a number', 'Order No. 5', 'Order number 5'],
    ['money with and without cents', 'A cleaning is $120.50, a check-up $1.', 'A cleaning is 120 dollars and 50 cents, a check-up 1 dollar.'],
    ['money in thousands, which Polly reads as a number', 'It costs $12000 or $1,250.99.', 'It costs 12000 dollars or 1,250 dollars and 99 cents.'],
    ['clock times', 'Come at 3:30pm or 10:05 am; we close at 5:00.', "Come at 3 30 PM or 10 oh 5 AM; we close at 5 o'clock."],
    ['an hour range and a percentage', 'Open 9am-5pm, 20% off.', 'Open 9 AM to 5 PM, 20 percent off.'],
    ['a sentence ending in "p.m." keeps its full stop', 'We close at 5 p.m. Call us before.', 'We close at 5 PM. Call us before.'],
    ['"p.m." inside a sentence', 'at 5 p.m. tomorrow', 'at 5 PM tomorrow'],
    ['years and counts stay numbers', 'In 2025 we saw 12,500 patients.', 'In 2025 we saw 12,500 patients.'],
    ['a code of capitals and digits, spelled', 'Your code is AB12C.', 'Your code is A B 1 2 C.'],
    ['an email, part by part', 'Write to front.desk@harbor-dental.com', 'Write to front dot desk at harbor-dental dot com'],
    ['a house number beside its letter', 'Suite 300, Apt. 4B', 'Suite 300, apartment 4B'],
  ])('says %s, in plain text only', (_, text, spoken) => {
    expect(textForSpeech(text)).toEqual({ text: spoken });
  });

  // Digit strings: plain text says them apart; Polly gets say-as, which neural voices speak.
  it.each([
    ['a phone number and extension', 'Call (555) 123-4567 ext. 204.', 'Call 5 5 5, 1 2 3, 4 5 6 7 extension 2 0 4.',
      '<speak>Call <say-as interpret-as="telephone">555-123-4567</say-as> extension <say-as interpret-as="digits">204</say-as>.</speak>'],
    ['a seven-digit number', 'or 555-0100', 'or 5 5 5, 0 1 0 0', '<speak>or <say-as interpret-as="telephone">555-0100</say-as></speak>'],
    ['a number with its country code', '+1 555 123 4567', '5 5 5, 1 2 3, 4 5 6 7', '<speak><say-as interpret-as="telephone">555-123-4567</say-as></speak>'],
    ['a confirmation number', 'Your confirmation number is 4820193.', 'Your confirmation number is 4 8 2 0 1 9 3.',
      '<speak>Your confirmation number is <say-as interpret-as="digits">4820193</say-as>.</speak>'],
    ['a ZIP code with its leading zero', 'Our ZIP is 02139.', 'Our ZIP is 0 2 1 3 9.', '<speak>Our ZIP is <say-as interpret-as="digits">02139</say-as>.</speak>'],
    ['the characters SSML reserves, escaped ("&" is said "and")', 'Tom & Jerry\'s "clinic": 555-0100', 'Tom and Jerry\'s "clinic": 5 5 5, 0 1 0 0',
      '<speak>Tom and Jerry&apos;s &quot;clinic&quot;: <say-as interpret-as="telephone">555-0100</say-as></speak>'],
  ])('says %s with SSML say-as for Polly', (_, text, spoken, ssml) => {
    expect(textForSpeech(text)).toEqual({ text: spoken, ssml });
  });

  it.each([
    ['control characters', 'Press 1 now\u0007\u001b', 'Press 1 now'],
    ['angle brackets Polly would take for markup', 'Press <1> now', 'Press 1 now'],
    ['emoji, their skin tones and joiners', 'See you soon 😀👍🏽 👩‍⚕️!', 'See you soon!'],
    ["a model's markdown", '## **Open** `today`', 'Open today'],
    ['a chunk with nothing to say', '🎉 ---', ''],
    ['an unpaired surrogate (invalid UTF-8 on the wire)', 'lone \uD800 half', 'lone half'],
    ['private-use characters', 'a\uE000\uE101b', 'a b'],
  ])('drops %s', (_, text, spoken) => {
    expect(textForSpeech(text).text).toBe(spoken);
  });
});

describe('text for speech against the emulated Polly', () => {
  let polly: RunningPollyEmulator;
  let client: PollyClient;
  beforeAll(async () => {
    polly = await startPollyEmulator();
    client = new PollyClient({ endpoint: polly.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' } });
  });
  afterAll(async () => {
    client.destroy();
    await polly.close();
  });

  it('sends SSML the service accepts, billed without its tags', async () => {
    const { ssml } = textForSpeech('Tom & Jerry\'s: call (555) 123-4567 ext. 204 about order 4820193 <urgent>');
    const output = await client.send(new SynthesizeSpeechCommand({ Text: ssml!, TextType: 'ssml', OutputFormat: 'pcm', SampleRate: '8000', VoiceId: 'Joanna', Engine: 'neural' }));
    await output.AudioStream!.transformToByteArray();
    const said = "Tom and Jerry's: call 555-123-4567 extension 204 about order 4820193 urgent";
    expect(polly.syntheses().at(-1)).toMatchObject({ text: said, requestCharacters: said.length });
  });
});
