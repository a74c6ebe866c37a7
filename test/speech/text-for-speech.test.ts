import { describe, expect, it } from 'vitest';
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

  it('says abbreviations in full', () => {
    expect(textForSpeech('Dr. Okafor sees patients Tue. and Thu. at 12 Harbor St., Ste. 4')).toBe('doctor Okafor sees patients Tuesday and Thursday at 12 Harbor street, suite 4');
    expect(textForSpeech('Mon.–Fri.')).toBe('Monday to Friday');
    expect(textForSpeech('Order No. 5')).toBe('Order number 5');
  });

  it('says money, times and percentages as a receptionist does', () => {
    expect(textForSpeech('A cleaning is $120.50, a check-up $1.')).toBe('A cleaning is 120 dollars and 50 cents, a check-up 1 dollar.');
    expect(textForSpeech('Come at 3:30pm or 10:05 am; we close at 5:00.')).toBe("Come at 3 30 PM or 10 oh 5 AM; we close at 5 o'clock.");
    expect(textForSpeech('Open 9am-5pm, 20% off.')).toBe('Open 9 AM to 5 PM, 20 percent off.');
  });

  it('reads phone numbers, extensions and emails digit by digit and part by part', () => {
    expect(textForSpeech('Call (555) 123-4567 ext. 204.')).toBe('Call 5 5 5, 1 2 3, 4 5 6 7 extension 2 0 4.');
    expect(textForSpeech('or 555-0100')).toBe('or 5 5 5, 0 1 0 0');
    expect(textForSpeech('Write to front.desk@harbor-dental.com')).toBe('Write to front dot desk at harbor-dental dot com');
  });
});
