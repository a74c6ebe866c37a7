import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import alawmulaw from 'alawmulaw';
import WebSocket from 'ws';
import { SpeechCodeDecoder } from '../speech-code/decoder.js';
import { synthesizeSpeechCode } from '../speech-code/synthesize.js';
import { FRAME_MS, LineTicker } from './line-ticker.js';
import { twilioSignature } from './signing.js';

export interface MediaLineOptions {
  /** The `<Stream url>` as the TwiML gave it: what the upgrade's signature covers. */
  url: string;
  /** Where that URL is reached (a load balancer's choice). */
  connectTo: string;
  accountSid: string;
  authToken: string;
  callSid: string;
  parameters: Record<string, string>;
  /** Silence that ends an utterance of the agent's, for the decoder. Default 300 ms. */
  endOfSpeechMs?: number;
}

/** What happened on the line, in order. */
export type LineEvent =
  | { type: 'clear' }
  | { type: 'mark'; name: string; echoed: boolean }
  | { type: 'heard'; text: string };

const FRAME_BYTES = 160;
const MULAW_SILENCE = 0xff;
/** A frame of line silence as a `media` payload, and as what the caller's ear decodes it to. */
const SILENCE_PAYLOAD = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE).toString('base64');
const SILENCE_PCM = new Int16Array(FRAME_BYTES);
/**
 * The caller's audio goes out this many frames (100 ms) at a time, in one socket write: Twilio's
 * own delivery over the internet comes in bursts too, and a write per 20 ms frame was 23 % of the
 * load process's busy CPU (writev) at 200 calls. A burst ends at the speech's last frame (which
 * goes out when due, and `spokeAt` with it), and from then until the answer's first audio frames
 * go one by one: the server's endpointing runs on that silence, which a burst would hold back by
 * up to 80 ms, in mouth to ear.
 */
const BURST_FRAMES = 5;
/** Every line of the process on one timer. */
const ticker = new LineTicker();
/** A stalled timer sends at most this many late frames at once, as Twilio's own buffering would. */
const MAX_CATCH_UP_FRAMES = 10;
/** Agent audio after this much quiet starts a new answer (longer than the speech code's sentence gap). */
const ANSWER_GAP_MS = 500;
/** How long after the agent's last media a dry buffer counts as late audio rather than the answer's end (a stalled loaded machine can be this late). */
const UNDERRUN_HOLD_MS = 1_500;

/**
 * One Media Stream as Twilio runs it: `connected` and `start`, then the caller's audio as 20 ms
 * µ-law `media` frames at real time (their queued speech, else line silence), the agent's `media`
 * played out at real time into a decoder of the emulated speech code, `mark`s echoed once the
 * audio before them has played, `clear` dropping unplayed audio and echoing its pending marks.
 */
export class MediaLine {
  readonly streamSid = `MZ${randomBytes(16).toString('hex')}`;
  readonly events: LineEvent[] = [];
  /** Words the caller heard, utterance by utterance. */
  readonly heard: string[] = [];
  /** Resolves when the socket closed, with the server's code and reason (1006: it went away). */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Messages the server sent that were not media, mark or clear (Twilio would warn: 31951). */
  readonly unexpected: string[] = [];
  /** When each answer's audio began (`performance.now()`): the first agent media after a quiet line. */
  readonly answerStarts: number[] = [];
  /** When the agent's last media arrived. */
  lastAudioAt = 0;
  /** When the last frame of the caller's latest speech went out (`performance.now()`). */
  spokeAt = 0;
  /** 20 ms slots in which the agent's audio had run dry less than 1.5 s after its last media: late audio, heard as gaps. */
  underrunFrames = 0;
  private sequence = 0;
  private chunk = 0;
  private readonly startedAt = performance.now();
  private framesSent = 0;
  private framesPlayed = 0;
  /** The caller's queued speech, as the `media` payloads of its frames. */
  private inbound: string[] = [];
  /** From the caller's last speech frame until the answer's first audio: frames go out one by one. */
  private awaitingAnswer = false;
  /** The agent's audio not yet played, and the marks behind it (at a byte offset of that audio). */
  private outbound: Uint8Array[] = [];
  private outboundBytes = 0;
  private playedBytes = 0;
  private pendingMarks: Array<{ name: string; atByte: number }> = [];
  private readonly decoder: SpeechCodeDecoder;
  private utterance: string[] = [];
  private stopped = false;
  private change: { promise: Promise<void>; resolve: () => void } | undefined;

  private constructor(
    private readonly ws: WebSocket,
    /** The stream's TCP socket, corked around the frames of a tick so that they go out in one write. */
    private readonly socket: Socket,
    private readonly options: MediaLineOptions,
  ) {
    this.decoder = new SpeechCodeDecoder({ sampleRateHz: 8_000, endOfSpeechMs: options.endOfSpeechMs ?? 300 });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => {
      this.halt();
      resolve({ code, reason: reason.toString() });
    }));
    ws.on('message', (data, isBinary) => this.receive(data.toString(), isBinary));
    ws.on('error', () => undefined);
  }

  /** Opens the stream; rejects with the HTTP status when the upgrade is refused. */
  static open(options: MediaLineOptions): Promise<MediaLine> {
    const ws = new WebSocket(options.connectTo, { headers: { 'x-twilio-signature': twilioSignature(options.authToken, options.url) } });
    return new Promise((resolve, reject) => {
      let socket: Socket | undefined;
      ws.once('upgrade', (response) => (socket = response.socket));
      ws.once('unexpected-response', (_request, response) => {
        reject(new Error(`media stream upgrade refused: ${response.statusCode}`));
        ws.terminate();
      });
      ws.once('error', reject);
      ws.once('open', () => {
        const line = new MediaLine(ws, socket!, options);
        line.begin();
        resolve(line);
      });
    });
  }

  /**
   * The caller says `text` (the emulated speech code), from the next frame on. Answers how long
   * the queued audio goes on after the caller's last voiced sample (the code's closing word gap
   * and the last frame's padding): the part of an endpointing silence already over when the last
   * frame has gone out.
   */
  speak(text: string): number {
    const pcm = synthesizeSpeechCode(text, 8_000);
    const audio = alawmulaw.mulaw.encode(pcm);
    const frames: string[] = [];
    for (let at = 0; at < audio.length; at += FRAME_BYTES) {
      const frame = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
      frame.set(audio.subarray(at, at + FRAME_BYTES));
      frames.push(frame.toString('base64'));
    }
    // The line silence already due goes first: the speech starts at the next frame.
    this.socket.cork();
    this.sendAudio(Math.floor((performance.now() - this.startedAt) / FRAME_MS));
    this.socket.uncork();
    this.inbound = frames;
    let voicedEnd = pcm.length;
    while (voicedEnd > 0 && pcm[voicedEnd - 1] === 0) voicedEnd -= 1;
    return frames.length * FRAME_MS - voicedEnd / 8;
  }

  /** Whether the caller's queued speech is still going out. */
  get speaking(): boolean {
    return this.inbound.length > 0;
  }

  /** Whether the agent's audio is still playing to the caller. */
  get playing(): boolean {
    return this.outboundBytes > this.playedBytes;
  }

  /** How long the agent's audio already received goes on playing. */
  get unplayedMs(): number {
    return (this.outboundBytes - this.playedBytes) / (FRAME_BYTES / FRAME_MS);
  }

  /** Resolves at the line's next turning point: the caller's speech all sent, an answer's first audio, words heard, the line closed. */
  changed(): Promise<void> {
    if (!this.change) {
      let resolve!: () => void;
      const promise = new Promise<void>((settle) => (resolve = settle));
      this.change = { promise, resolve };
    }
    return this.change.promise;
  }

  dtmf(digit: string): void {
    this.send({ event: 'dtmf', streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  /** Twilio ends the stream (the caller hung up, or the call got new TwiML): `stop`, then close. */
  stop(): void {
    if (this.stopped) return;
    this.send({ event: 'stop', streamSid: this.streamSid, stop: { accountSid: this.options.accountSid, callSid: this.options.callSid } });
    this.halt();
    this.ws.close(1000, 'stream stopped');
  }

  /** Any text frame, as is: for tests of what the server does with bad input. */
  sendRaw(text: string | Buffer, binary = false): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text, { binary });
  }

  private begin(): void {
    this.ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    this.send({
      event: 'start',
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: this.options.accountSid,
        callSid: this.options.callSid,
        tracks: ['inbound'],
        customParameters: this.options.parameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    ticker.add(this);
  }

  /** The ticker's beat: the caller's frames that are due go out, and the agent's that are due play. */
  tick(): void {
    const now = performance.now();
    const due = Math.floor((now - this.startedAt) / FRAME_MS);
    this.socket.cork();
    if (due - this.framesSent >= (this.awaitingAnswer ? 1 : Math.min(BURST_FRAMES, this.inbound.length || BURST_FRAMES))) this.sendAudio(due);
    for (let played = 0; this.framesPlayed < due && played < MAX_CATCH_UP_FRAMES; played += 1) {
      this.framesPlayed += 1;
      this.playFrame(now);
    }
    this.socket.uncork();
    this.framesPlayed = Math.max(this.framesPlayed, due - MAX_CATCH_UP_FRAMES);
    this.framesSent = Math.max(this.framesSent, due - MAX_CATCH_UP_FRAMES);
  }

  /** The caller's frames up to `due`, each its own `media` message with its own timestamp, as Twilio sends them. */
  private sendAudio(due: number): void {
    for (let sent = 0; this.framesSent < due && sent < MAX_CATCH_UP_FRAMES; sent += 1) {
      this.framesSent += 1;
      const speech = this.inbound.shift();
      this.chunk += 1;
      if (this.ws.readyState === WebSocket.OPEN) {
        this.sequence += 1;
        // Twilio's key order; every value is digits, base64 or the stream's hex id: nothing to escape.
        this.ws.send(
          `{"event":"media","sequenceNumber":"${this.sequence}","media":{"track":"inbound","chunk":"${this.chunk}","timestamp":"${this.framesSent * FRAME_MS}","payload":"${speech ?? SILENCE_PAYLOAD}"},"streamSid":"${this.streamSid}"}`,
        );
      }
      if (speech !== undefined && this.inbound.length === 0) {
        this.spokeAt = performance.now();
        this.awaitingAnswer = true;
        this.notify();
      }
    }
  }

  /** 20 ms of the agent's audio (or silence) reaches the caller's ear; marks behind it are echoed. */
  private playFrame(now: number): void {
    if (this.outbound.length === 0 && now - this.lastAudioAt < UNDERRUN_HOLD_MS && this.lastAudioAt > 0) {
      // The agent's audio ran dry mid-answer (it arrived late): the caller hears a gap, counted here;
      // the decoder does not, so what the caller heard stays readable on a loaded machine.
      this.underrunFrames += 1;
      return;
    }
    if (this.outbound.length === 0) {
      this.hear(SILENCE_PCM);
      return;
    }
    const frame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
    let filled = 0;
    while (filled < FRAME_BYTES && this.outbound.length > 0) {
      const head = this.outbound[0]!;
      const take = Math.min(head.length, FRAME_BYTES - filled);
      frame.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.outbound.shift();
      else this.outbound[0] = head.subarray(take);
    }
    this.playedBytes += filled;
    this.hear(alawmulaw.mulaw.decode(frame));
    while (this.pendingMarks.length > 0 && this.pendingMarks[0]!.atByte <= this.playedBytes) this.echoMark(this.pendingMarks.shift()!.name);
  }

  private hear(pcm: Int16Array): void {
    for (const event of this.decoder.push(pcm)) {
      if (event.type === 'word') this.utterance.push(event.word.text);
      else if (event.type === 'endOfSpeech') this.endUtterance();
    }
  }

  private endUtterance(): void {
    if (this.utterance.length === 0) return;
    const text = this.utterance.join(' ');
    this.utterance = [];
    this.heard.push(text);
    this.events.push({ type: 'heard', text });
    this.notify();
  }

  private notify(): void {
    const change = this.change;
    this.change = undefined;
    change?.resolve();
  }

  private receive(text: string, isBinary: boolean): void {
    let message: { event?: unknown; streamSid?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      this.unexpected.push(text.slice(0, 200));
      return;
    }
    if (isBinary || message.streamSid !== this.streamSid) {
      this.unexpected.push(text.slice(0, 200));
      return;
    }
    if (message.event === 'media' && typeof message.media?.payload === 'string') {
      const bytes = Buffer.from(message.media.payload, 'base64');
      const now = performance.now();
      if (!this.playing && now - this.lastAudioAt > ANSWER_GAP_MS) {
        this.answerStarts.push(now);
        this.awaitingAnswer = false;
        this.notify();
      }
      this.lastAudioAt = now;
      this.outbound.push(bytes);
      this.outboundBytes += bytes.length;
    } else if (message.event === 'mark' && typeof message.mark?.name === 'string') {
      this.events.push({ type: 'mark', name: message.mark.name, echoed: false });
      this.pendingMarks.push({ name: message.mark.name, atByte: this.outboundBytes });
      if (!this.playing) this.playFrameMarksOnly();
    } else if (message.event === 'clear') {
      this.events.push({ type: 'clear' });
      this.outbound = [];
      this.outboundBytes = this.playedBytes;
      for (const mark of this.pendingMarks.splice(0)) this.echoMark(mark.name);
    } else {
      this.unexpected.push(text.slice(0, 200));
    }
  }

  /** A mark with no audio before it has "played" at once. */
  private playFrameMarksOnly(): void {
    while (this.pendingMarks.length > 0 && this.pendingMarks[0]!.atByte <= this.playedBytes) this.echoMark(this.pendingMarks.shift()!.name);
  }

  private echoMark(name: string): void {
    this.events.push({ type: 'mark', name, echoed: true });
    this.send({ event: 'mark', streamSid: this.streamSid, mark: { name } });
  }

  private send(message: Record<string, unknown>): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.sequence += 1;
    message.sequenceNumber = String(this.sequence);
    this.ws.send(JSON.stringify(message));
  }

  private halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    ticker.remove(this);
    // The line went dead: what the caller heard of an utterance still counts.
    this.endUtterance();
    this.notify();
  }
}
