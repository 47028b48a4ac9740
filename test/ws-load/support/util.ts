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
