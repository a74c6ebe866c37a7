import type { TwilioRemote } from '../load/twilio-line.js';
import { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN_MIN_CHARS } from '../config/schema.js';
import { integerFlag, UsageError } from './flags.js';

export interface TwilioLoadFlagValues {
  url?: string;
  'public-url'?: string;
  'account-sid'?: string;
  'auth-token'?: string;
  'twilio-port'?: string;
}


/**
 * `aybiza load --transport twilio --url …`: what the emulated Twilio needs to ring a separate
 * `serve` (undefined for the other transport, or without `--url`: an embedded node, configured by
 * the runner) — its account (serve's `twilio.accountSid` and `twilio.authToken`), the public URL serve
 * signs and builds stream URLs with (`twilio.publicUrl`; default: the `--url` itself) and the port
 * of its REST API, which serve's `twilio.apiBaseUrl` points at. `env` supplies serve's own
 * variables as defaults.
 */
export function twilioRemoteFlags(transport: 'aybiza' | 'twilio', values: TwilioLoadFlagValues, env: NodeJS.ProcessEnv): TwilioRemote | undefined {
  const remoteOnly = (['public-url', 'account-sid', 'auth-token', 'twilio-port'] as const).filter((flag) => values[flag] !== undefined);
  if (transport !== 'twilio') {
    if (remoteOnly.length > 0) throw new UsageError(`--${remoteOnly[0]} is for --transport twilio`);
    return undefined;
  }
  if (values.url === undefined) {
    if (remoteOnly.length > 0) throw new UsageError(`--${remoteOnly[0]} is for a separate serve: give its telephony URL with --url`);
    return undefined;
  }
  const serveUrl = httpUrl('--url', values.url);
  const accountSid = values['account-sid'] ?? env.AYBIZA_TWILIO_ACCOUNT_SID;
  const authToken = values['auth-token'] ?? env.AYBIZA_TWILIO_AUTH_TOKEN;
  if (accountSid === undefined) throw new UsageError('--transport twilio --url needs --account-sid (or AYBIZA_TWILIO_ACCOUNT_SID): serve\'s twilio.accountSid');
  // The shapes serve's twilio.* accepts, so a mismatch shows here and not as 403s.
  if (!TWILIO_ACCOUNT_SID.test(accountSid)) throw new UsageError(`--account-sid "${accountSid}": expected a Twilio Account SID, AC and 32 hex digits`);
  if (authToken === undefined) throw new UsageError('--transport twilio --url needs --auth-token (or AYBIZA_TWILIO_AUTH_TOKEN): serve\'s twilio.authToken, which signs the webhooks');
  if (authToken.length < TWILIO_AUTH_TOKEN_MIN_CHARS) throw new UsageError(`--auth-token: expected at least ${TWILIO_AUTH_TOKEN_MIN_CHARS} characters (a Twilio auth token has 32)`);
  const publicUrl = values['public-url'] ?? env.AYBIZA_TWILIO_PUBLIC_URL;
  return {
    serveUrl,
    publicUrl: publicUrl === undefined ? serveUrl : httpUrl('--public-url', publicUrl),
    accountSid,
    authToken,
    apiPort: integerFlag('--twilio-port', values['twilio-port'], 0, 65_535) ?? 0,
  };
}

/** An http(s) origin and path prefix, from an http(s) or ws(s) URL (serve's ready line names its telephony URL as ws://…/v1/calls). */
function httpUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} "${value}": expected a URL such as http://127.0.0.1:8080`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new UsageError(`${flag} "${value}": expected an http://, https://, ws:// or wss:// URL`);
  if (url.search || url.hash) throw new UsageError(`${flag} "${value}": expected no query or fragment (Twilio signs the URL as it is)`);
  const path = flag === '--url' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.protocol.replace(/^ws/, 'http')}//${url.host}${path}`;
}
