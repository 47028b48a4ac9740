/**
 * A latency histogram in logarithmic buckets 1% wide, from 1 µs up: cheap to record in a
 * load process, small to send over IPC, and mergeable, so percentiles span every client.
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);

export type HistogramCounts = number[];

export class LatencyHistogram {
  readonly counts: HistogramCounts;

  constructor(counts: HistogramCounts = []) {
    this.counts = [...counts];
  }

  record(micros: number): void {
    const bucket = micros <= 1 ? 0 : Math.ceil(Math.log(micros) / LOG_GROWTH);
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
  }

  merge(other: HistogramCounts): void {
    other.forEach((count, bucket) => {
      if (count) this.counts[bucket] = (this.counts[bucket] ?? 0) + count;
    });
  }

  get total(): number {
    return this.counts.reduce((sum, count) => sum + (count ?? 0), 0);
  }

  /** The value (µs, a bucket's upper bound) at or below which `fraction` of the samples lie. */
  percentile(fraction: number): number {
    const rank = Math.ceil(fraction * this.total);
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      seen += this.counts[bucket] ?? 0;
      if (seen >= rank && seen > 0) return GROWTH ** bucket;
    }
    return Number.NaN;
  }
}
