import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/emulator/twilio/signing.js';
import { parseTwiml } from '../../src/emulator/twilio/twiml.js';

describe('the Twilio emulator\'s TwiML and signatures', () => {
  it('reads what the twilio package builds: verbs, attributes, parameters and escaped text', () => {
    const response = new twilio.twiml.VoiceResponse();
    response.connect({ action: 'https://h/a?x=1&y=2' }).stream({ url: 'wss://h/m' }).parameter({ name: 'n', value: 'a "quoted" <value>' });
    response.say('Fish & chips');
    const parsed = parseTwiml(response.toString());
    expect(parsed.children.map((verb) => verb.name)).toEqual(['Connect', 'Say']);
    expect(parsed.children[0]!.attributes).toEqual({ action: 'https://h/a?x=1&y=2' });
    expect(parsed.children[0]!.children[0]!.children[0]!.attributes).toEqual({ name: 'n', value: 'a "quoted" <value>' });
    expect(parsed.children[1]!.text).toBe('Fish & chips');
  });

  it('refuses a document that is not one well-formed <Response>', () => {
    for (const bad of ['<Response><Say>hi</Response>', '<Say>hi</Say>', '<Response/><Response/>', 'not xml <']) {
      expect(() => parseTwiml(bad), bad).toThrow();
    }
  });

  it('signs as Twilio documents, so the twilio package\'s validator accepts it', () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(twilioSignature('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(twilio.validateRequest('12345', twilioSignature('12345', 'wss://h/twilio/media'), 'wss://h/twilio/media', {})).toBe(true);
  });
});
