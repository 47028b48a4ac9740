/** Polls `condition` every 10 ms until it holds; rejects after timeoutMs with `what` and `detail()`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000, detail: () => string = () => ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      const more = detail();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more ? `; ${more}` : ""}`);
    }
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const MB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** A short description of where two offset lists first differ, or undefined when equal. */
export function firstDifference(actual: readonly number[], expected: readonly number[]): string | undefined {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      const around = (list: readonly number[]) => list.slice(Math.max(0, i - 3), i + 4).join(",");
      return `at index ${i} of ${actual.length} received / ${expected.length} expected: got [${around(actual)}], expected [${around(expected)}]`;
    }
  }
  return undefined;
}
