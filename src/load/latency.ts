import * as hdr from 'hdr-histogram-js';

/**
 * Latencies in HDR histograms: constant memory whatever the run's length, mergeable across worker
 * threads. Values are recorded in microseconds and reported in milliseconds.
 */
export class LatencyHistogram {
  private readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentile(p: number): number {
    return this.count === 0 ? 0 : round(this.histogram.getValueAtPercentile(p) / 1000);
  }

  summary(): { p50: number; p90: number; p95: number; p99: number; max: number } {
    return { p50: this.percentile(50), p90: this.percentile(90), p95: this.percentile(95), p99: this.percentile(99), max: round(this.histogram.maxValue / 1000) };
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  merge(encoded: string): void {
    this.histogram.add(hdr.decodeFromCompressedBase64(encoded));
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
