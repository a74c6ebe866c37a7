import twilio from 'twilio';
import type { Logger } from '../../log.js';

export interface CallControlOptions {
  accountSid: string;
  authToken: string;
  /** Twilio's REST API base (https://api.twilio.com), or an emulator's. */
  apiBaseUrl: string;
  /** Names `transfer_call` may use → the number or SIP URI to dial. */
  transferTargets: Record<string, string>;
  log: Logger;
}

/** What a live Twilio call can be told from outside its stream. */
export interface CallControl {
  /** Cold transfer: the call's TwiML becomes `<Dial>` to the target. */
  transfer(callSid: string, to: string, callId: string): Promise<void>;
  /** The agent hung up: the call is completed. */
  complete(callSid: string, callId: string): Promise<void>;
}

const TWILIO_API = 'https://api.twilio.com';

/**
 * Twilio's REST API through Twilio's own client. The client has no base-URL option, so requests
 * are rewritten to `apiBaseUrl` by a wrapped request client. Errors (a call that already ended
 * answers 404) are logged, never thrown: the call is over on our side either way.
 */
export function createCallControl(options: CallControlOptions): CallControl {
  const inner = new twilio.RequestClient();
  const base = options.apiBaseUrl.replace(/\/+$/, '');
  const httpClient = Object.assign(Object.create(inner) as typeof inner, {
    request: (opts: Parameters<typeof inner.request>[0]) => inner.request({ ...opts, uri: base === TWILIO_API ? opts.uri : opts.uri.replace(/^https:\/\/api\.twilio\.com/, base) }),
  });
  const client = twilio(options.accountSid, options.authToken, { httpClient });
  const { log } = options;

  const update = async (callSid: string, callId: string, what: string, params: { twiml: string } | { status: 'completed' }) => {
    try {
      await client.calls(callSid).update(params);
      log.info({ event: 'twilio.call_updated', callId, what });
    } catch (error) {
      const rest = error as { status?: number; code?: number; message?: string };
      log.warn({ event: 'twilio.call_update_failed', callId, what, status: rest.status, code: rest.code, error: rest.message });
    }
  };

  return {
    transfer: (callSid, to, callId) => {
      const target = options.transferTargets[to] ?? to;
      const response = new twilio.twiml.VoiceResponse();
      const dial = response.dial();
      if (/^\+[1-9]\d{6,14}$/.test(target)) dial.number(target);
      else if (/^sips?:/.test(target)) dial.sip(target);
      else {
        log.warn({ event: 'twilio.transfer_unroutable', callId, target: to }, 'transfer target is neither a number, a SIP URI nor in twilio.transferTargets: completing the call');
        return update(callSid, callId, 'complete', { status: 'completed' });
      }
      return update(callSid, callId, 'transfer', { twiml: response.toString() });
    },
    complete: (callSid, callId) => update(callSid, callId, 'complete', { status: 'completed' }),
  };
}
