import type { TranscribeStreamingClient } from '@aws-sdk/client-transcribe-streaming';
import type { CallerEvent } from '../call/events.js';
import { epochMs } from '../clock.js';
import { maskPhoneNumbersIn, type Logger } from '../log.js';
import type { CallObservation, CallObserver } from '../records/observations.js';
import { UNMEASURED_SPEECH, type SpeechMetrics } from '../metrics/metrics.js';
import { LOOPBACK_PRINCIPAL, type CallPeer, type CallsPort, type OpenResult, type StartRequest } from '../protocol/calls-port.js';
import type { OutboundFrame } from '../protocol/frames.js';
import { bytesPerFrame, type AudioFormat } from './audio-format.js';
import { BackchannelFilter } from './backchannel.js';
import { AudioFramer } from './framer.js';
import { decodeAudio } from './pcm.js';
import { PlaybackPacer, type PlaybackOutcome, type PlaybackTransport } from './playback.js';
import { SpeechToTextSession, type Transcript } from './speech-to-text.js';
import { textForSpeech } from './text-for-speech.js';
import type { SpeechSynthesizer, Synthesis } from './text-to-speech.js';
import { VoiceActivityDetector, type VoiceActivityOptions } from './voice-activity.js';

export interface AudioCallOptions {
  calls: CallsPort;
  /** The line's audio, both ways (a phone line: µ-law at 8 kHz). Polly is asked for the same format. */
  lineFormat: AudioFormat;
  transport: PlaybackTransport;
  transcribe: TranscribeStreamingClient;
  languageCode: string;
  vocabularyName?: string;
  textToSpeech: SpeechSynthesizer;
  backchannels?: BackchannelFilter;
  voiceActivity?: Partial<VoiceActivityOptions>;
  /** Said when a speech-to-text stream failed while the caller's words had no final transcript yet. */
  repeatPrompt?: string;
  /**
   * While the agent speaks and the caller starts: how long to hold the agent's audio for a
   * transcript. Then a caller still talking barges in (by voice); one who stopped (a cough, a
   * door) lets the agent resume. Default 1,500 ms.
   */
  holdForTranscriptMs?: number;
  log: Logger;
  /** `createMetrics().speech` on a serving node; default: not measured. */
  metrics?: SpeechMetrics;
  /** Where the speech-to-text and text-to-speech times go (the node's observer: the call's trace). */
  observe?: CallObserver;
  /** Milliseconds, monotonic, for the latencies. Default `performance.now`. */
  now?: () => number;
  /** The call ended (hangup or transfer frame, or `end`). */
  onEnd?(reason: string): void;
}

export interface AudioCallCounters {
  bargeIns: number;
  backchannelsIgnored: number;
  framesIn: number;
  sttStreamErrors: number;
  ttsFailures: number;
  repeatPrompts: number;
}

export const DEFAULT_REPEAT_PROMPT = "Sorry, I didn't catch that. Could you say it again?";

/**
 * One call heard and spoken as audio, in front of the unchanged call machine: caller audio →
 * voice activity and Transcribe → `caller.speechStarted` / `caller.transcript`; the machine's
 * `say` → Polly → paced frames → `caller.played` after the transport's acknowledgement.
 *
 * Barge-in while the agent speaks: the first voiced frames pause outbound audio at once (at most
 * the lead still plays); the transcript then decides. A backchannel ("mhm") resumes the agent and
 * is not delivered; anything else is a barge-in (`caller.speechStarted`, then its transcripts), and
 * so is a caller still talking when the hold ends without a transcript. Each step reports to
 * `metrics` (frames, latencies, barge-ins by kind, faults).
 */
export class AudioCall implements CallPeer {
  readonly counters: AudioCallCounters = { bargeIns: 0, backchannelsIgnored: 0, framesIn: 0, sttStreamErrors: 0, ttsFailures: 0, repeatPrompts: 0 };
  private readonly framer: AudioFramer;
  /** A frame's samples, decoded from the line: reused for every frame (an Int16Array per 20 ms frame was garbage at 50 a second per call). */
  private readonly decoded: Int16Array;
  private readonly vad: VoiceActivityDetector;
  private readonly pacer: PlaybackPacer;
  private readonly stt: SpeechToTextSession;
  private readonly backchannels: BackchannelFilter;
  private readonly metrics: SpeechMetrics;
  private readonly now: () => number;
  private callId: string | undefined;
  private holding: NodeJS.Timeout | undefined;
  private ended = false;
  /** When the caller's last voiced frame arrived, on `now`'s clock. */
  private lastVoicedAt: number | undefined;
  /** The last voiced frame of the utterance the agent is to answer, until its first audio frame goes out. */
  private awaitingReplySince: number | undefined;

  constructor(private readonly options: AudioCallOptions) {
    this.metrics = options.metrics ?? UNMEASURED_SPEECH;
    this.now = options.now ?? (() => performance.now());
    this.framer = new AudioFramer(options.lineFormat);
    this.decoded = new Int16Array(bytesPerFrame(options.lineFormat));
    this.vad = new VoiceActivityDetector(options.voiceActivity);
    this.pacer = new PlaybackPacer(options.transport, { format: options.lineFormat, onFrameSent: (late) => this.onFrameSent(late) });
    this.backchannels = options.backchannels ?? new BackchannelFilter();
    this.stt = new SpeechToTextSession({
      client: options.transcribe,
      languageCode: options.languageCode,
      sampleRateHz: options.lineFormat.sampleRateHz,
      stability: 'high',
      ...(options.vocabularyName ? { vocabularyName: options.vocabularyName } : {}),
      onTranscript: (transcript) => this.onTranscript(transcript),
      onStreamError: (error, lostWords, retryInMs) => {
        this.counters.sttStreamErrors += 1;
        this.metrics.sttStreamError(lostWords);
        options.log.warn({ event: 'speech.stt_stream_failed', callId: this.callId, error: (error as Error).message, lostWords, retryInMs }, 'speech-to-text stream failed; a new one opens after retryInMs');
        if (lostWords) this.askToRepeat();
      },
    });
  }

  /** The call's id once the call machine sent `ready`. */
  get id(): string | undefined {
    return this.callId;
  }

  /** `principal`: who the line's gateway authenticated as (loopback when it has no keys). */
  open(start: StartRequest, principal: string = LOOPBACK_PRINCIPAL): Promise<OpenResult> {
    return this.options.calls.open(start, this, principal);
  }

  /** Caller audio from the line, in any pieces. */
  receiveAudio(bytes: Uint8Array): void {
    if (this.ended) return;
    for (const frame of this.framer.push(bytes)) {
      this.counters.framesIn += 1;
      this.metrics.audioFrame('in');
      // Into one buffer per call: Transcribe's session copies what it keeps, voice activity reads it at once.
      const pcm = decodeAudio(frame, this.options.lineFormat.encoding, this.decoded);
      this.stt.push(pcm);
      const event = this.vad.push(pcm);
      if (this.vad.speaking && this.vad.lastFrameVoiced) this.lastVoicedAt = this.now();
      if (event?.type === 'speechStarted') this.onSpeechStarted();
    }
  }

  /** From the call machine. */
  send(frame: OutboundFrame): void {
    if (frame.type === 'ready') this.callId = frame.callId;
    else if (frame.type === 'say') this.say(frame.id, frame.text);
    else if (frame.type === 'clear') this.pacer.clear();
    else if (frame.type === 'hangup' || frame.type === 'transfer') void this.finish(frame.type === 'hangup' ? frame.reason : `transfer to ${frame.to}`);
    else if (frame.type === 'error') this.options.log.warn({ callId: this.callId, code: frame.code }, frame.message);
  }

  end(_code: number, reason: string): void {
    void this.finish(reason);
  }

  /** A key the caller pressed (one of 0-9 * # A-D, checked by the transport). */
  dtmf(digit: string): void {
    this.deliver({ type: 'caller.dtmf', digit, readAt: epochMs() });
  }

  /** The caller hung up. */
  async hangup(): Promise<void> {
    this.deliver({ type: 'caller.hangup', reason: 'caller' });
    await this.finish('caller hung up');
  }

  /**
   * The caller's words were lost (a failed stream, or a node that died mid-turn): the agent asks
   * for them again itself. The prompt is not the machine's chunk (no `played` for it), so the turn
   * the caller is in goes on.
   */
  askToRepeat(): void {
    this.counters.repeatPrompts += 1;
    void this.play(`repeat-${this.counters.repeatPrompts}`, this.options.repeatPrompt ?? DEFAULT_REPEAT_PROMPT);
  }

  private say(id: string, text: string): void {
    void this.play(id, text).then((outcome) => {
      if (outcome.outcome === 'played') this.deliver({ type: 'caller.played', id });
    });
  }

  private play(id: string, text: string): Promise<PlaybackOutcome> {
    // Synthesis starts now, in parallel with the chunks before it; playback keeps their order.
    const requestedAt = this.now();
    const speakable = textForSpeech(text);
    const synthesizer = this.options.textToSpeech;
    if (speakable.text === '') return this.pacer.play(id, this.audioOf(Promise.resolve(undefined), requestedAt, 0));
    const synthesis = (speakable.ssml && synthesizer.speaksSsml ? synthesizer.synthesize(speakable.ssml, 'ssml') : synthesizer.synthesize(speakable.text)).then(
      (result) => {
        if (result.retried) this.metrics.ttsFailure('retried');
        return result;
      },
      (error: unknown) => {
        this.counters.ttsFailures += 1;
        this.metrics.ttsFailure('skipped');
        // The agent's words may repeat a caller's number: masked as transcripts are.
        this.options.log.warn({ event: 'speech.tts_chunk_skipped', callId: this.callId, error: (error as Error).message, text: maskPhoneNumbersIn(text) }, 'text-to-speech failed twice; chunk skipped');
        return undefined;
      },
    );
    return this.pacer.play(id, this.audioOf(synthesis, requestedAt, speakable.text.length));
  }

  /** A synthesis's audio once it answers (none if it failed), timing a request's first byte. */
  private async *audioOf(synthesis: Promise<Synthesis | undefined>, requestedAt: number, chars: number): AsyncIterable<Uint8Array> {
    const result = await synthesis;
    if (!result) return;
    let firstByteAt: number | undefined;
    for await (const piece of result.audio) {
      if (firstByteAt === undefined) {
        firstByteAt = this.now();
        if (!result.fromCache) this.metrics.ttsFirstByte((firstByteAt - requestedAt) / 1000);
      }
      yield piece;
    }
    if (firstByteAt !== undefined) {
      const toEpoch = this.epochOffset();
      this.report({ type: 'speech.synthesized', startedAt: requestedAt + toEpoch, firstByteAt: firstByteAt + toEpoch, endedAt: this.now() + toEpoch, chars, cached: result.fromCache });
    }
  }

  /** What turns a time on `now`'s clock into epoch milliseconds, as observations carry them: read once per report, so its times keep their order. */
  private epochOffset(): number {
    return epochMs() - this.now();
  }

  private report(observation: CallObservation): void {
    if (this.callId) this.options.observe?.(this.callId, observation);
  }

  private onSpeechStarted(): void {
    if (!this.pacer.busy) {
      this.deliver({ type: 'caller.speechStarted' });
      return;
    }
    this.pacer.pause();
    clearTimeout(this.holding);
    this.holding = setTimeout(() => (this.vad.speaking ? this.bargeIn('voice') : this.release()), this.options.holdForTranscriptMs ?? 1_500);
  }

  private onTranscript(transcript: Transcript): void {
    if (this.holding) {
      if (this.backchannels.isBackchannel(transcript.text)) {
        if (transcript.isFinal) {
          this.counters.backchannelsIgnored += 1;
          this.metrics.backchannelIgnored();
          this.release();
        }
        return;
      }
      this.bargeIn('transcript');
    }
    if (transcript.isFinal && this.lastVoicedAt !== undefined) {
      this.metrics.sttFinalLatency((this.now() - this.lastVoicedAt) / 1000);
      const toEpoch = this.epochOffset();
      this.report({ type: 'speech.transcribed', startedAt: this.lastVoicedAt + toEpoch, endedAt: this.now() + toEpoch, chars: transcript.text.length });
      // Mouth to ear is the wait for an answer: not measured over agent audio that is still playing.
      if (!this.pacer.busy) this.awaitingReplySince = this.lastVoicedAt;
    }
    this.deliver({ type: 'caller.transcript', text: transcript.text, final: transcript.isFinal, readAt: epochMs() });
  }

  private bargeIn(kind: 'voice' | 'transcript'): void {
    clearTimeout(this.holding);
    this.holding = undefined;
    this.counters.bargeIns += 1;
    this.metrics.bargeIn(kind);
    this.pacer.clear();
    this.deliver({ type: 'caller.speechStarted' });
  }

  private onFrameSent(late: boolean): void {
    this.metrics.audioFrame('out');
    if (late) this.metrics.audioFrameLate();
    if (this.awaitingReplySince === undefined) return;
    this.metrics.mouthToEar((this.now() - this.awaitingReplySince) / 1000);
    this.awaitingReplySince = undefined;
  }

  /** Not a barge-in after all: the agent goes on where it paused. */
  private release(): void {
    clearTimeout(this.holding);
    this.holding = undefined;
    this.pacer.resume();
  }

  private deliver(event: CallerEvent): void {
    if (this.callId && !this.ended) this.options.calls.deliver(this.callId, event);
  }

  private async finish(reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.holding);
    this.pacer.clear();
    await this.stt.close();
    this.options.onEnd?.(reason);
  }
}
