import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { Observed } from "./observed.js";

/**
 * Reads an async iterable in the background, so a test can act (publish, restart the server)
 * while a read is pending, and then wait on what has arrived. The iterable is opened with an
 * AbortSignal; stop() aborts it and waits for the loop to end.
 */
export class LiveRead<T> extends Observed {
  readonly items: T[] = [];
  /** Date.now() when each item arrived. */
  readonly arrivals: number[] = [];
  private readonly controller = new AbortController();
  private readonly loop: Promise<void>;

  constructor(open: (signal: AbortSignal) => AsyncIterable<T>) {
    super();
    const iterable = open(this.controller.signal);
    this.loop = (async () => {
      try {
        for await (const item of iterable) {
          this.items.push(item);
          this.arrivals.push(Date.now());
          this.changed();
        }
      } catch (err) {
        this.failure = err;
      } finally {
        this.ended = true;
        this.changed();
      }
    })();
  }

  /** Resolves with the items once at least `count` have arrived; rejects on timeout or if the read ended first. */
  waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    return this.until(() => this.items.length >= count, `${count} items`, timeoutMs).then(() => this.items);
  }

  /** Aborts the read and waits for it to end; returns everything that arrived. */
  async stop(): Promise<T[]> {
    this.controller.abort();
    await this.loop;
    return this.items;
  }

  protected describe(): string {
    return `${this.items.length} items`;
  }
}

export async function consumerNames(jsm: JetStreamManager, stream: string): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const info of jsm.consumers.list(stream)) names.add(info.name);
  return names;
}

/**
 * Resolves once the stream has a consumer that was not among `before`: a read started after
 * `before` was taken has resolved its position and attached to the stream.
 */
export async function waitForNewConsumer(
  jsm: JetStreamManager,
  stream: string,
  before: ReadonlySet<string>,
  timeoutMs = 10_000,
): Promise<ConsumerInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for await (const info of jsm.consumers.list(stream)) {
      if (!before.has(info.name)) return info;
    }
    if (Date.now() > deadline) throw new Error(`no new consumer on stream ${stream} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The error an async iterable's first step rejects with; fails if it yields or ends instead. */
export async function firstError(iterable: AsyncIterable<unknown>, timeoutMs = 5_000): Promise<Error> {
  const iterator = iterable[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const outcome = await Promise.race([iterator.next().then((next) => ({ next }), (error: unknown) => ({ error })), timeout]);
    if (outcome === "timeout") throw new Error(`expected the read to be refused, but it was still pending after ${timeoutMs} ms`);
    if ("next" in outcome) {
      void iterator.return?.(undefined);
      throw new Error(`expected the read to be refused, but it ${outcome.next.done ? "ended" : "yielded an item"}`);
    }
    if (!(outcome.error instanceof Error)) throw new Error(`the read was refused with a non-Error: ${String(outcome.error)}`);
    return outcome.error;
  } finally {
    clearTimeout(timer);
  }
}

