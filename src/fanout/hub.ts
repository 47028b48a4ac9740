import type { Backbone } from "../backbone/connection.js";
import type { StreamState } from "../backbone/stream-state.js";
import { filterSubject } from "../backbone/subjects.js";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import { resolveStartOffset } from "../backbone/start-offset.js";
import type { Schemas } from "../schema/registry.js";
import { DEFAULT_FEED_LIMITS, StreamFeed, type FeedLimits } from "./feed.js";
import { eventFilter } from "./encoded-event.js";
import { Reader } from "./reader.js";

/**
 * Every reader in the process goes through the hub: it keeps one live feed per stream and
 * places each new reader at its exact starting offset.
 */
export class Hub {
  #feeds = new Map<string, Promise<StreamFeed>>();
  readonly #readers = new Set<Reader>();
  readonly #forget = (reader: Reader): void => void this.#readers.delete(reader);

  constructor(
    private readonly backbone: Pick<Backbone, "js" | "jsm">,
    private readonly schemas: Schemas,
    private readonly onFeedError: (stream: string, err: unknown) => void,
    private readonly limits: FeedLimits = DEFAULT_FEED_LIMITS,
  ) {}

  /** A reader of the stream from the spec's position; `state` is the stream as read just before. */
  async open(state: StreamState, request: ReadSpec): Promise<Reader> {
    const feed = await this.#feed(state);
    const { startOffset, gap } = await resolveStartOffset(this.backbone.js, request.position, state, request.epoch);
    const { js, jsm } = this.backbone;
    const reader = new Reader(
      // Named, not spread from the backbone: a spread of it gave each reader's context a map
      // (a hidden class) of its own, some 400 bytes of every idle connection.
      {
        js,
        jsm,
        schemas: this.schemas,
        feed,
        filterSubject: filterSubject(state.name, { types: request.types, key: request.key }),
        onClose: this.#forget,
      },
      startOffset,
      eventFilter(request),
      state,
      gap,
    );
    this.#readers.add(reader);
    return reader;
  }

  /** The open readers, by where they read. */
  readerCounts(): { live: number; catchingUp: number } {
    let catchingUp = 0;
    for (const reader of this.#readers) if (reader.catchingUp) catchingUp++;
    return { live: this.#readers.size - catchingUp, catchingUp };
  }

  close(): void {
    for (const feed of this.#feeds.values()) void feed.then((f) => f.close(), () => undefined);
    this.#feeds.clear();
  }

  /** The stream's live feed, made anew when the stream was re-created (its epoch changed). */
  async #feed(state: StreamState): Promise<StreamFeed> {
    const { name: stream, epoch } = state;
    const entry = this.#feeds.get(stream);
    const current = await entry?.catch(() => undefined);
    if (current && (current.epoch !== epoch || current.closed)) {
      // Its readers end (SSE and polls finish, WebSocket subscriptions are told) and resume
      // with the new epoch, which gives them a gap notice.
      current.close();
      if (this.#feeds.get(stream) === entry) this.#feeds.delete(stream);
    }
    let feed = this.#feeds.get(stream);
    if (!feed) {
      feed = (async () => {
        const created = new StreamFeed(state, this.limits);
        created.start(this.backbone.js, this.backbone.jsm, this.schemas, (err) => {
          // A feed that failed is dropped; the next reader starts a fresh one.
          this.#feeds.delete(stream);
          created.close();
          this.onFeedError(stream, err);
        });
        return created;
      })();
      this.#feeds.set(stream, feed);
      feed.catch(() => this.#feeds.delete(stream));
    }
    return feed;
  }
}
