import { WebSocket, type RawData } from 'ws';
import type { Logger } from '../../log.js';
import type { CallPeer, CallsPort, OpenResult } from '../../protocol/calls-port.js';
import type { OutboundFrame } from '../../protocol/frames.js';
import { AudioCall } from '../../speech/audio-call.js';
import type { PlaybackTransport } from '../../speech/playback.js';
import type { CallControl } from './call-control.js';
import { clearMessage, decodeMediaPayload, markMessage, mediaMessages, parseTwilioMessage, TWILIO_MEDIA_FORMAT, type TwilioMessage } from './media-messages.js';
import type { SpeechForCall } from './speech-for-call.js';
import type { StreamTokens } from './stream-token.js';

export interface MediaStreamOptions {
  accountSid: string;
  tokens: StreamTokens;
  calls: CallsPort;
  control: CallControl;
  speech(agent: string): SpeechForCall;
  log: Logger;
  /** Counts every message not used, by why (`bad_media`, `before_start`, `unknown_mark`, …). */
  onIgnored(reason: string): void;
  /** How long a hangup waits for the goodbye to be heard before completing the call anyway (a synthesis that never ends). Default 30 s. */
  hangupPlayoutMs?: number;
  /** The stream's TCP socket: corked for a tick while messages are sent, so the messages of one tick leave in one write. */
  socket?: { cork(): void; uncork(): void };
}

type State = 'awaiting_start' | 'opening' | 'open' | 'closed';

const WS_NORMAL = 1000;
const WS_UNSUPPORTED = 1003;
const WS_POLICY_VIOLATION = 1008;
const WS_INTERNAL = 1011;
const DTMF_DIGIT = /^[0-9*#A-D]$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * One Twilio Media Stream (bidirectional `<Connect><Stream>`): Twilio's messages in, `media`,
 * `mark` and `clear` out, and between them an {@link AudioCall} in front of the call machine.
 *
 * Bad input never ends the call: a message that cannot be used is ignored and counted. Only a
 * `start` that does not prove the webhook announced this call (its one-time token), names another
 * account or another audio format closes the stream, with a close reason saying which.
 */
/** Who Twilio's calls belong to: authenticated by its signatures, one key holder for the call limits. */
export const TWILIO_PRINCIPAL = 'twilio';

export class TwilioMediaStream implements CallPeer, PlaybackTransport {
  private state: State = 'awaiting_start';
  private streamSid = '';
  private callSid = '';
  private openCallId: string | undefined;
  private audio: AudioCall | undefined;
  /** Marks sent and not yet echoed, by name, oldest first. */
  private readonly marks = new Map<string, Array<() => void>>();
  /** Chunks said and not yet played (or skipped): a hangup waits for them. */
  private readonly unplayed = new Set<string>();
  private playedWaiters: Array<() => void> = [];
  /** REST updates and goodbyes in flight: the socket closes only after them (closing first would make Twilio follow `action`). */
  private ending: Promise<void> | undefined;
  private ended = false;
  private stopReceived = false;
  private mediaText = mediaMessages('');
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: MediaStreamOptions,
  ) {}

  awaitingStart(): boolean {
    return this.state === 'awaiting_start';
  }

  get callId(): string | undefined {
    return this.openCallId;
  }

  receive(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.ignore('binary_frame', 'binary frames are not Twilio messages');
    const parsed = parseTwilioMessage(data.toString());
    if (!parsed.ok) return this.ignore(parsed.refusal, parsed.detail);
    try {
      this.handle(parsed.message);
    } catch (error) {
      // A message must never take the process down with it (test/reliability/twilio-protocol-fuzzing.test.ts).
      this.options.log.error({ event: 'twilio.message_failed', callId: this.openCallId, twilioEvent: parsed.message.event, error: (error as Error).message });
      this.options.onIgnored('internal');
    }
  }

  /** The socket closed, whoever closed it. */
  closed(): void {
    const wasOpen = this.state === 'open' || this.state === 'opening';
    this.state = 'closed';
    for (const pending of this.marks.values()) for (const resolve of pending) resolve();
    this.marks.clear();
    this.nothingMoreWillPlay();
    if (!wasOpen || this.ended) return;
    // Without `stop` the line is still up at Twilio, which now requests `<Connect action>`: the call is suspended for it.
    if (this.openCallId) this.options.calls.detach(this.openCallId, this, 'closed');
    this.audio?.end(WS_NORMAL, 'stream closed');
  }

  // CallPeer: frames from the call machine.
  send(frame: OutboundFrame): void {
    const audio = this.audio;
    if (!audio) return;
    if (frame.type === 'ready') this.openCallId = frame.callId;
    if (frame.type === 'say') this.unplayed.add(frame.id);
    if (frame.type === 'transfer') {
      this.ended = true;
      this.ending = this.options.control.transfer(this.callSid, frame.to, this.openCallId ?? this.callSid);
    }
    if (frame.type === 'hangup') {
      this.ended = true;
      // The goodbye said before `hangup` is heard before the line drops.
      this.ending = this.allPlayed().then(() => {
        audio.send(frame);
        // After `stop` Twilio has ended the call (or given it other TwiML): there is nothing left to complete.
        if (this.stopReceived) return;
        return this.options.control.complete(this.callSid, this.openCallId ?? this.callSid);
      });
      return;
    }
    audio.send(frame);
  }

  end(code: number, reason: string): void {
    void (this.ending ?? Promise.resolve()).then(() => {
      this.audio?.end(code, reason);
      this.closeSocket(code === WS_NORMAL ? WS_NORMAL : code, reason);
    });
  }

  // PlaybackTransport: the agent's audio towards Twilio.
  sendFrame(frame: Uint8Array): void {
    this.sendText(this.mediaText(frame));
  }

  mark(name: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.state === 'closed') return resolve();
      const pending = this.marks.get(name) ?? [];
      pending.push(resolve);
      this.marks.set(name, pending);
      this.sendText(markMessage(this.streamSid, name));
    });
  }

  clear(): void {
    // Twilio echoes the marks of the audio it drops; the pacer no longer waits for them, so they are not taken as played.
    this.sendText(clearMessage(this.streamSid));
    // What was unplayed is dropped: a hangup has nothing more to wait for.
    for (const chunkId of [...this.unplayed]) this.played(chunkId);
  }

  private handle(message: TwilioMessage): void {
    if (this.state === 'closed') return;
    if (message.event === 'connected') return;
    if (message.event === 'start') {
      if (this.state !== 'awaiting_start') return this.ignore('already_started', 'a second start on one stream');
      return void this.start(message);
    }
    if (this.state === 'awaiting_start') {
      if (message.event === 'stop') return this.stopped();
      return this.ignore('before_start', `"${message.event}" before "start"`);
    }
    if (message.streamSid !== this.streamSid) return this.ignore('wrong_stream', `"${message.event}" for another streamSid`);
    switch (message.event) {
      case 'media': {
        // A bidirectional stream carries the caller's track only: other audio (the agent's own, `outbound`) is not to be transcribed.
        if (message.media.track !== undefined && message.media.track !== 'inbound') return this.ignore('other_track', 'media of a track other than "inbound"');
        const bytes = decodeMediaPayload(message.media.payload);
        if (!bytes) return this.ignore('bad_media', 'media payload is not base64 of 160 bytes (20 ms of µ-law)');
        return this.audio?.receiveAudio(bytes);
      }
      case 'mark': {
        const pending = this.marks.get(message.mark.name);
        if (!pending) return this.ignore('unknown_mark', 'mark that was never sent');
        this.marks.delete(message.mark.name);
        for (const resolve of pending) resolve();
        return;
      }
      case 'dtmf':
        if (!DTMF_DIGIT.test(message.dtmf.digit)) return this.ignore('bad_dtmf', 'dtmf digit is not one of 0-9 * # A-D');
        return this.audio?.dtmf(message.dtmf.digit);
      case 'stop':
        return this.stopped();
    }
  }

  private async start(message: Extract<TwilioMessage, { event: 'start' }>): Promise<void> {
    const { start } = message;
    if (start.accountSid !== this.options.accountSid) return this.refuse(WS_POLICY_VIOLATION, 'stream is for another Twilio account');
    const format = start.mediaFormat;
    if (format.encoding !== TWILIO_MEDIA_FORMAT.encoding || format.sampleRate !== TWILIO_MEDIA_FORMAT.sampleRate || format.channels !== TWILIO_MEDIA_FORMAT.channels) {
      return this.refuse(WS_UNSUPPORTED, 'unsupported media format: expected audio/x-mulaw at 8000 Hz, mono');
    }
    const redeemed = this.options.tokens.redeem(start.customParameters, start.callSid);
    if (!redeemed.ok) return this.refuse(WS_POLICY_VIOLATION, `${redeemed.reason}: the voice webhook did not announce this stream`);
    const { claims } = redeemed;
    this.state = 'opening';
    this.streamSid = message.streamSid;
    this.mediaText = mediaMessages(message.streamSid);
    this.callSid = start.callSid;
    const speech = this.options.speech(claims.agent);
    const { calls } = this.options;
    this.audio = new AudioCall({
      // Sees each `played` on its way to the call, so that a hangup can wait for the goodbye.
      calls: {
        open: (request, peer, principal, openOptions) => calls.open(request, peer, principal, openOptions),
        detach: (callId, peer, reason) => calls.detach(callId, peer, reason),
        deliver: (callId, event) => {
          if (event.type === 'caller.played') this.played(event.id);
          calls.deliver(callId, event);
        },
      },
      lineFormat: { encoding: 'mulaw', sampleRateHz: 8_000 },
      transport: this,
      ...speech,
      log: this.options.log,
    });
    const resumeToken = this.options.tokens.resumeToken(start.callSid);
    let result: OpenResult;
    try {
      result = await this.options.calls.open({
        type: 'start',
        callId: start.callSid,
        agent: claims.agent,
        ...(claims.from && E164.test(claims.from) ? { from: claims.from } : {}),
        ...(claims.to && E164.test(claims.to) ? { to: claims.to } : {}),
        ...(claims.resume ? { resume: true, resumeToken } : {}),
      }, this, TWILIO_PRINCIPAL, { resumeToken });
    } catch (error) {
      this.options.log.error({ event: 'twilio.open_failed', callId: start.callSid, error: (error as Error).message });
      result = { ok: false, code: 'internal', message: 'the call could not be started', fatal: true };
    }
    if (this.state !== 'opening') {
      // Stopped while opening: the caller hung up. Closed without `stop`: suspended for `action`.
      if (result.ok && this.stopReceived) this.options.calls.deliver(result.callId, { type: 'caller.hangup', reason: 'caller' });
      else if (result.ok) this.options.calls.detach(result.callId, this, 'closed');
      return;
    }
    if (!result.ok) {
      this.options.log.warn({ event: 'twilio.call_refused', callId: start.callSid, code: result.code }, result.message);
      this.ended = true;
      this.audio.end(WS_INTERNAL, result.code);
      return this.refuse(WS_INTERNAL, `${result.code}: ${result.message}`.slice(0, 120));
    }
    this.state = 'open';
    this.openCallId = result.callId;
    this.options.log.info({ event: 'twilio.stream_started', callId: result.callId, resumed: claims.resume });
    // The call moved here from a node that died, maybe mid-turn: what the caller said since the last turn boundary is lost, so ask for it.
    if (claims.resume) this.audio.askToRepeat();
  }

  /** Twilio ended the stream: the caller hung up, or a REST update replaced the call's TwiML. */
  private stopped(): void {
    const audio = this.audio;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.stopReceived = true;
    this.nothingMoreWillPlay();
    if (audio && !this.ended) {
      this.ended = true;
      // Still opening: `start` delivers the hangup once the call is open.
      if (wasOpen) void audio.hangup();
      else audio.end(WS_NORMAL, 'stream stopped');
    }
    this.closeSocket(WS_NORMAL, 'stream stopped');
  }

  /** Resolves when every chunk said so far has played, or after `hangupPlayoutMs`. */
  private allPlayed(): Promise<void> {
    if (this.unplayed.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.options.hangupPlayoutMs ?? 30_000);
      this.playedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Nothing more will be heard (all of it played, or the caller is gone): what waits for the end of playout goes on, a hangup behind its goodbye included. */
  private nothingMoreWillPlay(): void {
    this.unplayed.clear();
    for (const waiter of this.playedWaiters.splice(0)) waiter();
  }

  private played(chunkId: string): void {
    this.unplayed.delete(chunkId);
    if (this.unplayed.size === 0) this.nothingMoreWillPlay();
  }

  private refuse(code: number, reason: string): void {
    this.options.onIgnored(code === WS_POLICY_VIOLATION ? 'stream_refused' : 'stream_failed');
    this.options.log.warn({ event: 'twilio.stream_refused', callId: this.openCallId, reason });
    this.state = 'closed';
    this.closeSocket(code, reason);
  }

  private ignore(reason: string, detail: string): void {
    this.options.onIgnored(reason);
    this.options.log.debug({ event: 'twilio.message_ignored', callId: this.openCallId, reason, detail });
  }

  private sendText(text: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.batchWrites();
    this.ws.send(text);
  }

  /** Holds the socket's writes until the end of this tick: the pacer's group of frames and the mark behind them leave in one write. */
  private batchWrites(): void {
    const socket = this.options.socket;
    if (!socket || this.corked) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  private closeSocket(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}
