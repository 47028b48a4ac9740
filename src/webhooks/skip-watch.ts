import type { ConsumerInfo, JetStreamManager } from "@nats-io/jetstream";
import { readStreamState } from "../backbone/stream-state.js";
import { gapBefore } from "../fanout/gap.js";
import type { GapNotice } from "@streamgate/protocol/position";

/**
 * Notices when a webhook's durable consumer went past events retention removed: JetStream skips
 * them without a word. It follows the stream offsets the worker took, and reads the stream's
 * first offset only when one arrives beyond the next it expected.
 */
export class SkipWatch {
  #expected: number;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    expected: number,
  ) {
    this.#expected = expected;
  }

  /**
   * Where a worker that has taken nothing from the consumer yet expects it to go on: past the
   * last offset it handed out, or, before it handed out any, where it was made to start (the
   * server may have moved its delivered sequence past removed events already, silently).
   */
  static resumingAt(info: ConsumerInfo): number {
    return info.delivered.consumer_seq === 0 ? (info.config.opt_start_seq ?? 1) : info.delivered.stream_seq + 1;
  }

  /** The gap that came before `offset`, when the consumer skipped removed events to reach it. */
  async gapBefore(offset: number): Promise<GapNotice | undefined> {
    if (offset <= this.#expected) return undefined;
    return gapBefore(this.#expected, offset, await readStreamState(this.jsm, this.stream));
  }

  /** A redelivered earlier offset moves nothing, so a skip is reported once. */
  taken(offset: number): void {
    this.#expected = Math.max(this.#expected, offset + 1);
  }
}
