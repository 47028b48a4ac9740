import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { TalliedHistogram } from "./tallied-histogram.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const config = (registry: Registry) => ({
  name: "test_latency_seconds",
  help: "A latency.",
  labelNames: ["protocol"] as const,
  buckets: BUCKETS,
  registers: [registry],
});

/** The same observations into prom-client's own Histogram and into a TalliedHistogram. */
function both(observations: Record<string, number[]>) {
  const ownRegistry = new Registry();
  const talliedRegistry = new Registry();
  const own = new Histogram(config(ownRegistry));
  const tallied = new TalliedHistogram(config(talliedRegistry));
  for (const [protocol, values] of Object.entries(observations)) {
    own.zero({ protocol });
    const tally = tallied.tally({ protocol });
    for (const value of values) {
      own.observe({ protocol }, value);
      tally.observe(value);
    }
  }
  return { ownRegistry, talliedRegistry };
}

describe("TalliedHistogram", () => {
  // On a bound (le is inclusive), between bounds, above every bound, zero, and a label set never observed.
  const observations = { sse: [0, 0.001, 0.0015, 0.01, 0.5, 1, 3, 120], ws: [0.02], poll: [] };

  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const { ownRegistry, talliedRegistry } = both(observations);
    const rendered = await talliedRegistry.metrics();
    expect(rendered).toBe(await ownRegistry.metrics());
    expect(rendered).toContain('test_latency_seconds_bucket{le="0.001",protocol="sse"} 2');
    expect(rendered).toContain('test_latency_seconds_bucket{le="+Inf",protocol="sse"} 8');
    expect(rendered).toContain('test_latency_seconds_count{protocol="poll"} 0');
  });

  it("gives the same JSON as prom-client's Histogram, exemplars aside (none are kept)", async () => {
    const { ownRegistry, talliedRegistry } = both(observations);
    const samples = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map(({ values, ...family }) => ({
        ...family,
        values: values.map((v) => ({ metricName: "metricName" in v ? v.metricName : undefined, labels: v.labels, value: v.value })),
      }));
    expect(await samples(talliedRegistry)).toEqual(await samples(ownRegistry));
  });
});
