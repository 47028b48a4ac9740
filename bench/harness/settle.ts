import type { Watched } from "./types.js";

/**
 * A process's RSS once it stops moving: sampled every 250 ms until a second of samples stays
 * within 1% of each other, or for at most `maxMs` (then the last sample).
 */
export async function settledRss(process: Watched, maxMs: number): Promise<number> {
  const samples: number[] = [];
  const deadline = Date.now() + maxMs;
  for (;;) {
    samples.push(await process.rssBytes());
    const recent = samples.slice(-5);
    if (recent.length === 5 && Math.max(...recent) <= Math.min(...recent) * 1.01) return recent.at(-1)!;
    if (Date.now() > deadline) return samples.at(-1)!;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
