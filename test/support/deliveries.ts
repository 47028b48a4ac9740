/** What a webhook receiver got, summed up per offset: for the delivery guarantee checks. */
import type { ReceivedRequest } from "./webhook-receiver.js";

const onPath = (requests: readonly ReceivedRequest[], path?: string) => (path === undefined ? requests : requests.filter((r) => r.path === path));

/** First delivery of each offset, in arrival order, and how many requests beyond the first there were. */
export function summarize(requests: readonly ReceivedRequest[], path?: string) {
  const mine = onPath(requests, path);
  const first = new Map<number, ReceivedRequest>();
  const counts = new Map<number, number>();
  for (const r of mine) {
    if (!first.has(r.offset)) first.set(r.offset, r);
    counts.set(r.offset, (counts.get(r.offset) ?? 0) + 1);
  }
  const firstOrder = [...first.values()].sort((a, b) => a.index - b.index).map((r) => r.offset);
  const outOfOrder: [number, number][] = [];
  for (let i = 1; i < firstOrder.length; i++) {
    if (firstOrder[i]! < firstOrder[i - 1]!) outOfOrder.push([firstOrder[i - 1]!, firstOrder[i]!]);
  }
  return {
    requests: mine.length,
    distinct: first.size,
    duplicates: mine.length - first.size,
    firstOrder,
    outOfOrder,
    duplicatedOffsets: [...counts].filter(([, n]) => n > 1).map(([o]) => o),
  };
}

/** The expected offsets that no request (on `path`) delivered. */
export function missing(expected: Iterable<number>, requests: readonly ReceivedRequest[], path?: string): number[] {
  const got = new Set(onPath(requests, path).map((r) => r.offset));
  return [...expected].filter((o) => !got.has(o));
}
