/** Takes exactly `count` items from an async iterable, failing if they do not come in time. */
export async function take<T>(iterable: AsyncIterable<T>, count: number, timeoutMs = 10_000): Promise<T[]> {
  const items: T[] = [];
  if (count === 0) return items;
  const iterator = iterable[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms with ${items.length} of ${count} items`)),
      timeoutMs,
    );
  });
  try {
    while (items.length < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next.done) throw new Error(`iterable ended after ${items.length} of ${count} items`);
      items.push(next.value);
    }
    return items;
  } finally {
    clearTimeout(timer);
    await iterator.return?.(undefined);
  }
}

/** Resolves when nothing more arrives from the iterable within `quietMs`; returns what did. */
export async function drainQuiet<T>(iterable: AsyncIterable<T>, quietMs: number): Promise<T[]> {
  const items: T[] = [];
  const iterator = iterable[Symbol.asyncIterator]();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<"quiet">((resolve) => (timer = setTimeout(() => resolve("quiet"), quietMs)));
      const next = await Promise.race([iterator.next(), quiet]);
      clearTimeout(timer);
      if (next === "quiet" || next.done) return items;
      items.push(next.value);
    }
  } finally {
    void iterator.return?.(undefined);
  }
}
