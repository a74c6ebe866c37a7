/**
 * Energy and zero-crossing voice activity on 20 ms PCM16 frames, with onset and hangover.
 *
 * A frame is voiced when its energy stands above an adaptive noise floor and either its
 * zero-crossing rate is speech-like (voiced sounds cross rarely) or it is loud enough that the rate
 * does not matter (fricatives, tones). `onsetFrames` voiced frames in a row raise `speechStarted`
 * (three frames: 60 ms after the first voiced frame, well before any transcript); `hangoverFrames`
 * unvoiced frames in a row end speech, so the pauses inside a sentence do not.
 */

export interface VoiceActivityOptions {
  /** Voiced frames in a row before speech starts. */
  onsetFrames: number;
  /** Unvoiced frames in a row before speech ends. */
  hangoverFrames: number;
  /** RMS below which a frame is never voiced, whatever the noise floor (PCM16 units; 300 ≈ −40 dBFS). */
  minRms: number;
  /** How far above the noise floor a frame must be, as an RMS ratio. */
  floorRatio: number;
  /** Zero crossings per sample above which a quiet frame counts as noise. */
  maxZeroCrossingRate: number;
}

export const DEFAULT_VOICE_ACTIVITY: VoiceActivityOptions = {
  onsetFrames: 3,
  hangoverFrames: 15,
  minRms: 300,
  floorRatio: 3,
  maxZeroCrossingRate: 0.35,
};

export type VoiceActivityEvent = { type: 'speechStarted'; frame: number } | { type: 'speechEnded'; frame: number };

export interface FrameFeatures {
  rms: number;
  zeroCrossingRate: number;
}

export function frameFeatures(frame: Int16Array): FrameFeatures {
  let energy = 0;
  let crossings = 0;
  for (let i = 0; i < frame.length; i += 1) {
    const sample = frame[i]!;
    energy += sample * sample;
    if (i > 0 && (sample >= 0) !== (frame[i - 1]! >= 0)) crossings += 1;
  }
  return { rms: Math.sqrt(energy / Math.max(1, frame.length)), zeroCrossingRate: crossings / Math.max(1, frame.length) };
}

/** The noise floor a detector starts from: low, so that words in the first frames are not taken for noise. */
const INITIAL_NOISE_RMS = 50;
/** The floor follows quiet frames quickly and loud ones slowly, so a long sentence does not become the floor. */
const FLOOR_FALL = 0.2;
const FLOOR_RISE = 0.005;

export class VoiceActivityDetector {
  private readonly options: VoiceActivityOptions;
  private noiseRms = INITIAL_NOISE_RMS;
  private voicedRun = 0;
  private unvoicedRun = 0;
  private frameIndex = 0;
  private inSpeech = false;
  private voiced = false;

  constructor(options: Partial<VoiceActivityOptions> = {}) {
    this.options = { ...DEFAULT_VOICE_ACTIVITY, ...options };
  }

  get speaking(): boolean {
    return this.inSpeech;
  }

  /** Whether the last frame pushed was voiced (speech may still be on in its hangover). */
  get lastFrameVoiced(): boolean {
    return this.voiced;
  }

  /** Feeds one frame; returns the event it caused, if any. */
  push(frame: Int16Array): VoiceActivityEvent | undefined {
    const index = this.frameIndex++;
    const voiced = this.isVoiced(frameFeatures(frame));
    this.voiced = voiced;
    if (voiced) {
      this.voicedRun += 1;
      this.unvoicedRun = 0;
      if (!this.inSpeech && this.voicedRun >= this.options.onsetFrames) {
        this.inSpeech = true;
        return { type: 'speechStarted', frame: index };
      }
    } else {
      this.unvoicedRun += 1;
      this.voicedRun = 0;
      if (this.inSpeech && this.unvoicedRun >= this.options.hangoverFrames) {
        this.inSpeech = false;
        return { type: 'speechEnded', frame: index };
      }
    }
    return undefined;
  }

  private isVoiced({ rms, zeroCrossingRate }: FrameFeatures): boolean {
    const threshold = Math.max(this.options.minRms, this.noiseRms * this.options.floorRatio);
    const voiced = rms > threshold && (zeroCrossingRate <= this.options.maxZeroCrossingRate || rms > threshold * 4);
    const rate = rms < this.noiseRms ? FLOOR_FALL : voiced ? 0 : FLOOR_RISE;
    this.noiseRms += (rms - this.noiseRms) * rate;
    return voiced;
  }
}
