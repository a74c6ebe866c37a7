/**
 * Per-model ratio of the input tokens Bedrock reports to the tokenizer's estimate of the same
 * request. The npm Claude tokenizer is an older vocabulary than the Claude 4 models use, so the raw
 * estimate is off by a model-dependent factor; an exponentially weighted mean converges on it
 * within a few turns while following drift.
 */
export class TokenCalibration {
  private readonly ratios = new Map<string, number>();

  constructor(private readonly weight = 0.2, private readonly bounds: [number, number] = [0.5, 3]) {}

  ratio(modelId: string): number {
    return this.ratios.get(modelId) ?? 1;
  }

  /** Folds one observation in; the first observation of a model is taken as is. */
  observe(modelId: string, estimatedTokens: number, reportedTokens: number): number {
    if (!(estimatedTokens > 0) || !(reportedTokens > 0)) return this.ratio(modelId);
    const sample = Math.min(this.bounds[1], Math.max(this.bounds[0], reportedTokens / estimatedTokens));
    const previous = this.ratios.get(modelId);
    const next = previous === undefined ? sample : previous + this.weight * (sample - previous);
    this.ratios.set(modelId, next);
    return next;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.ratios);
  }

  restore(ratios: Record<string, number>): void {
    for (const [modelId, ratio] of Object.entries(ratios)) {
      // A ratio learnt in this process is newer than the stored one.
      if (Number.isFinite(ratio) && ratio > 0 && !this.ratios.has(modelId)) this.ratios.set(modelId, ratio);
    }
  }
}
