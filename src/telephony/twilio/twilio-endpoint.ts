import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import type { CallsPort } from '../../protocol/calls-port.js';
import { createCallControl } from './call-control.js';
import { TwilioMediaStream } from './media-stream.js';
import { publicUrlOf, validTwilioSignature } from './signature.js';
import type { SpeechForCall } from './speech-for-call.js';
import { StreamTokens } from './stream-token.js';
import { createVoiceWebhook, MEDIA_PATH } from './voice-webhook.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  publicUrl: string;
  apiBaseUrl: string;
  numbers: Record<string, string>;
  defaultAgent: string;
  transferTargets: Record<string, string>;
  streamTokenTtlMs: number;
  requireStreamSignature: boolean;
}

export interface TwilioEndpointOptions {
  settings: TwilioSettings;
  calls: CallsPort;
  speech(agent: string): SpeechForCall;
  resumable(callSid: string): Promise<boolean>;
  /**
   * Why a new call would be refused now (limits, overload), counting `reserved` calls answered
   * whose streams have not started yet: the webhook then rejects it as busy instead of connecting a
   * stream that would be refused.
   */
  busy(reserved: number): string | undefined;
  log: Logger;
  /** Every request, stream or message refused or ignored, by reason. */
  onRefused(reason: string): void;
}

/** The Twilio routes the telephony server mounts beside `aybiza.v1` (src/telephony/server.ts). */
export interface TwilioEndpoint {
  request(request: IncomingMessage, response: ServerResponse): boolean;
  upgradePath: string;
  /** The HTTP status line refusing an upgrade, or undefined to accept it. */
  refuseUpgrade(request: IncomingMessage): string | undefined;
  /** `socket`: the upgraded TCP socket under `ws`, for batching the writes of a tick. */
  connected(ws: WebSocket, socket: Duplex): TwilioMediaStream;
}

export function createTwilioEndpoint(options: TwilioEndpointOptions): TwilioEndpoint {
  const { settings, log } = options;
  const tokens = new StreamTokens(settings.authToken, settings.streamTokenTtlMs);
  const control = createCallControl({ ...settings, log });
  // A call answered holds its place until its stream starts: a burst of webhooks cannot all be answered into one free place.
  const busy = () => options.busy(tokens.outstandingNewCalls());
  const request = createVoiceWebhook({ ...settings, tokens, resumable: options.resumable, busy, log, onRefused: options.onRefused });
  return {
    request,
    upgradePath: MEDIA_PATH,
    refuseUpgrade: (upgrade) => {
      const header = upgrade.headers['x-twilio-signature'];
      if (header === undefined && !settings.requireStreamSignature) return undefined;
      // Twilio signs the wss:// URL it opened, with no parameters.
      if (validTwilioSignature(settings.authToken, header, publicUrlOf(settings.publicUrl, upgrade.url ?? MEDIA_PATH, 'wss'), {})) return undefined;
      options.onRefused('bad_stream_signature');
      return '403 Forbidden';
    },
    connected: (ws, socket) => new TwilioMediaStream(ws, {
      accountSid: settings.accountSid,
      tokens,
      calls: options.calls,
      control,
      speech: options.speech,
      log,
      onIgnored: options.onRefused,
      socket,
    }),
  };
}
