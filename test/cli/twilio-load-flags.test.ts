import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/flags.js';
import { twilioRemoteFlags } from '../../src/cli/twilio-load-flags.js';

const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const AUTH_TOKEN = 'an-auth-token-of-32-characters-x';
const remote = { url: 'ws://127.0.0.1:8080/v1/calls', 'account-sid': ACCOUNT_SID, 'auth-token': AUTH_TOKEN };

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('aybiza load --transport twilio --url flags', () => {
  it('takes serve\'s origin from its ready line\'s ws:// telephony URL and defaults the public URL to it', () => {
    expect(twilioRemoteFlags('twilio', remote, {})).toEqual({
      serveUrl: 'http://127.0.0.1:8080', publicUrl: 'http://127.0.0.1:8080', accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiPort: 0,
    });
  });

  it('keeps a public URL\'s path prefix, and reads the account from serve\'s own variables', () => {
    const env = { AYBIZA_TWILIO_ACCOUNT_SID: ACCOUNT_SID, AYBIZA_TWILIO_AUTH_TOKEN: AUTH_TOKEN, AYBIZA_TWILIO_PUBLIC_URL: 'https://voice.example.com/aybiza/' };
    expect(twilioRemoteFlags('twilio', { url: 'http://10.0.0.5:8080', 'twilio-port': '4010' }, env)).toEqual({
      serveUrl: 'http://10.0.0.5:8080', publicUrl: 'https://voice.example.com/aybiza', accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, apiPort: 4010,
    });
  });

  it('needs nothing for an embedded node, and refuses the separate-serve flags without --url or on the other transport', () => {
    expect(twilioRemoteFlags('twilio', {}, {})).toBeUndefined();
    expect(twilioRemoteFlags('aybiza', { url: 'ws://127.0.0.1:8080/v1/calls' }, {})).toBeUndefined();
    expect(refusal(() => twilioRemoteFlags('twilio', { 'auth-token': AUTH_TOKEN }, {}))).toBe('--auth-token is for a separate serve: give its telephony URL with --url');
    expect(refusal(() => twilioRemoteFlags('aybiza', { 'twilio-port': '4010' }, {}))).toBe('--twilio-port is for --transport twilio');
  });

  it('names the missing or malformed flag', () => {
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, 'account-sid': undefined }, {})))
      .toBe('--transport twilio --url needs --account-sid (or AYBIZA_TWILIO_ACCOUNT_SID): serve\'s twilio.accountSid');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, 'auth-token': undefined }, {})))
      .toBe('--transport twilio --url needs --auth-token (or AYBIZA_TWILIO_AUTH_TOKEN): serve\'s twilio.authToken, which signs the webhooks');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, 'account-sid': 'AC123' }, {}))).toBe('--account-sid "AC123": expected a Twilio Account SID, AC and 32 hex digits');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, 'auth-token': 'short' }, {}))).toBe('--auth-token: expected at least 16 characters (a Twilio auth token has 32)');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, url: 'ftp://127.0.0.1:8080' }, {}))).toBe('--url "ftp://127.0.0.1:8080": expected an http://, https://, ws:// or wss:// URL');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, url: '127.0.0.1:8080' }, {}))).toBe('--url "127.0.0.1:8080": expected a URL such as http://127.0.0.1:8080');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, 'public-url': 'https://voice.example.com/?x=1' }, {})))
      .toBe('--public-url "https://voice.example.com/?x=1": expected no query or fragment (Twilio signs the URL as it is)');
    expect(refusal(() => twilioRemoteFlags('twilio', { ...remote, 'twilio-port': '70000' }, {}))).toBe('--twilio-port "70000": expected an integer from 0 to 65535');
  });
});
