/**
 * Seconds, for latencies: sub-millisecond to milliseconds on a healthy network, then seconds
 * to a minute when the backbone or a receiver is in trouble (a webhook retried, a slow reader).
 */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
