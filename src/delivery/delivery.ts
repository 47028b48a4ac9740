import { UnauthenticatedError } from "../auth/unauthenticated-error.js";
import { allows, authorize, mayRead, type Intent } from "../auth/grants.js";
import type { Principal } from "../auth/principal.js";
import type { Backbone } from "../backbone/connection.js";
import { readStreamState, type StreamState } from "../backbone/stream-state.js";
import { READ_RETRY_MS, whileUnavailable } from "../backbone/reader.js";
import { keyProblem } from "../backbone/stored-event.js";
import type { EncodedEvent } from "../fanout/encoded-event.js";
import type { Hub } from "../fanout/hub.js";
import type { ReadItem, Reader } from "../fanout/reader.js";
import { ApiError } from "@streamgate/protocol/errors";
import type { PollBatch } from "@streamgate/protocol/codec";
import { InvalidPositionError, type GapNotice } from "@streamgate/protocol/position";
import type { ReadSpec } from "@streamgate/protocol/read-spec";
import type { StreamDefinition } from "../schema/definitions.js";
import { requireStream, type Schemas } from "../schema/registry.js";
import type { Connection } from "./connection.js";
import type { Transport } from "./transport.js";

export interface PollLimits {
  max: number;
  /** A batch stops growing past this many bytes of event data, whatever `max` says. */
  maxBytes: number;
  /** How long to wait for a first event when none is there. */
  waitMs: number;
}

/**
 * Opens deliveries: every read of a stream, whatever the protocol, starts here, so the checks
 * on what may be read (the stream, its types and key, and the grants to come) are made once.
 */
export class Deliveries {
  /** Each stream's intent of an unfiltered read, which every such delivery holds: one object, not one each. */
  readonly #unfiltered = new Map<string, Intent>();

  constructor(
    private readonly backbone: Pick<Backbone, "jsm">,
    private readonly schemas: Schemas,
    private readonly hub: Hub,
  ) {}

  /**
   * A delivery of one stream to one connection. `read` parses what the client asked for; a
   * position it refuses is refused naming the stream's current range.
   */
  async open(connection: Connection, streamName: string, read: () => ReadSpec): Promise<Delivery> {
    const stream = requireStream(this.schemas, streamName);
    const spec = positionRefusal(() => admitted(stream, read()));
    const principal = connection.principal;
    if (!principal) throw new UnauthenticatedError("a credential is required to read streams");
    // A refused position names the stream's range: only to those who may read the stream.
    if (spec instanceof InvalidPositionError && !mayRead(principal, stream.name)) authorize(principal, { action: "subscribe", stream: stream.name });
    if (spec instanceof InvalidPositionError) {
      throw spec.withRange(await readStreamState(this.backbone.jsm, stream.name));
    }
    const intent = this.#intent(stream.name, spec);
    authorize(principal, intent);
    // Asked again through an election: the read is served as soon as the stream has a leader.
    const state = await whileUnavailable(() => readStreamState(this.backbone.jsm, stream.name), {
      deadline: Date.now() + READ_RETRY_MS,
      signal: connection.signal,
    });
    return new Delivery(connection, stream, state, await this.hub.open(state, spec), intent);
  }

  #intent(stream: string, { types, key }: ReadSpec): Intent {
    if (types || key !== undefined) return { action: "subscribe", stream, types, key };
    let intent = this.#unfiltered.get(stream);
    if (!intent) this.#unfiltered.set(stream, (intent = { action: "subscribe", stream, types, key }));
    return intent;
  }
}

/** The spec, or the position error to tell once the stream's range is known; other errors as they are. */
function positionRefusal(parse: () => ReadSpec): ReadSpec | InvalidPositionError {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidPositionError) return err;
    throw err;
  }
}

/** The filters must name what the stream can hold. */
function admitted(stream: StreamDefinition, spec: ReadSpec): ReadSpec {
  if (spec.types) {
    const known = new Set(stream.events.map((e) => e.type));
    const unknown = spec.types.find((type) => !known.has(type));
    if (unknown !== undefined) {
      throw new ApiError("invalid_argument", `stream ${stream.name} has no event type "${unknown}" (types: ${[...known].join(", ")})`);
    }
    spec = { ...spec, types: [...new Set(spec.types)] };
  }
  if (spec.key !== undefined) {
    const problem = spec.key === "" ? "the key is empty" : keyProblem(spec.key);
    if (problem) throw new ApiError("invalid_argument", `key: ${problem}`);
  }
  return spec;
}

/**
 * One read of one stream by one client, the same for every protocol: it pulls from its Reader
 * only while the transport has room, waits for real drain events when it has not, counts what
 * it delivers, and stops when its connection ends (the client left, or the gateway shuts down).
 */
export class Delivery {
  /** Made when a read first waits on JetStream or a poll's timer: most live reads never do. */
  #stop: AbortController | undefined;
  /** Where pump() sends, until the delivery ends. */
  #transport: Transport | undefined;

  constructor(
    private readonly connection: Connection,
    readonly stream: StreamDefinition,
    /** The stream as it stood when the read started. */
    readonly state: StreamState,
    private readonly reader: Reader,
    /** What the read asks of the grants: a credential refreshed mid-read is held to it again. */
    private readonly intent: Intent,
  ) {
    connection.stops(this);
  }

  /** The next offset to read: `from=` to resume exactly here. */
  get cursor(): number {
    return this.reader.cursor;
  }

  /** Whether this principal may go on with the read (after a WebSocket refreshed its credential). */
  readableBy(principal: Principal): boolean {
    return allows(principal, this.intent);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The stop signal's state, read per event without the signal's own checks. */
  #stopped = false;

  /**
   * Sends events and gap notices until the delivery is stopped or the stream's live feed ends,
   * then tells the transport which (Transport.ended), or that it failed.
   *
   * At the live edge this runs as a callback of the feed, sending each event as it is appended
   * without a promise per event: with a thousand subscribers, promises per event per subscriber
   * were most of the cost. Only a catch-up read from JetStream and a wait for drain are awaited.
   * Its state is in fields and its one callback (#step) a field too: an idle subscription holds
   * no closures of its own beyond that.
   */
  pump(transport: Transport): void {
    this.#transport = transport;
    this.#step();
  }

  readonly #step = (): void => {
    const transport = this.#transport;
    if (!transport) return;
    try {
      for (;;) {
        if (this.#stopped) return this.#ended();
        const polled = this.reader.poll();
        if (polled === "ended") return this.#ended();
        if (polled === "wait") return this.reader.onFeedChange(this.#step);
        if (polled === "read") {
          void this.reader.next({ wait: true, signal: this.#signal() }).then(
            (item) => (item ? this.#afterSend(this.#send(transport, item)) : this.#ended()),
            (err: unknown) => this.#failed(err),
          );
          return;
        }
        if (!this.#send(transport, polled)) return this.#afterSend(false);
      }
    } catch (err) {
      this.#failed(err);
    }
  };

  #afterSend(room: boolean): void {
    if (room) return this.#step();
    void this.#transport?.drained().then(this.#step, (err: unknown) => this.#failed(err));
  }

  /** The delivery is over: the transport hears it once. */
  #finish(): Transport | undefined {
    const transport = this.#transport;
    this.#transport = undefined;
    this.close();
    return transport;
  }

  #ended(): void {
    // Read before close(), which sets it: a feed that ended on its own is told as such.
    const how = this.#stopped ? "stopped" : "feed-ended";
    this.#finish()?.ended(how);
  }

  #failed(err: unknown): void {
    this.#finish()?.failed(err);
  }

  #signal(): AbortSignal {
    this.#stop ??= new AbortController();
    if (this.#stopped) this.#stop.abort();
    return this.#stop.signal;
  }

  /** Whether the transport has room for more after this item. */
  #send(transport: Transport, item: ReadItem): boolean {
    const room = transport.send(item);
    if (item.kind === "event") this.connection.meter.wrote(item.event.stored.time, item.live);
    return room;
  }

  /**
   * A long poll: waits up to waitMs for a first event, then takes what is already there, up to
   * the limits. A gap after events ends the batch, so the next poll (from `next`) reports it.
   */
  async collect(limits: PollLimits): Promise<PollBatch<EncodedEvent>> {
    const signal = this.#signal();
    // A plain timer held here: a timeout signal composed into another is only weakly held,
    // and after a garbage collection it never fires (the poll would hang until an event came).
    const waited = new AbortController();
    const timer = setTimeout(() => waited.abort(), limits.waitMs);
    const taken: { event: EncodedEvent; live: boolean }[] = [];
    let gap: GapNotice | undefined;
    let bytes = 0;
    try {
      while (taken.length < limits.max && bytes < limits.maxBytes) {
        const item = await this.reader.next({ wait: taken.length === 0 && waited.signal, signal });
        if (!item) break;
        if (item.kind === "gap") {
          if (taken.length > 0 || gap) break;
          gap = item.gap;
          continue;
        }
        taken.push(item);
        bytes += item.event.stored.data.byteLength;
      }
    } finally {
      clearTimeout(timer);
      this.close();
    }
    // Written to the client right after this returns.
    const now = Date.now();
    for (const { event, live } of taken) this.connection.meter.wrote(event.stored.time, live, now);
    const next = this.reader.cursor;
    return {
      events: taken.map((item) => item.event),
      next,
      first_offset: gap ? gap.first : this.state.firstOffset,
      // Events may have come since the read began: the stream holds at least what was read.
      last_offset: Math.max(this.state.lastOffset, next - 1),
      ...(gap && { gap }),
    };
  }

  close(): void {
    this.#stopped = true;
    this.#stop?.abort();
    this.connection.forget(this);
    this.reader.close();
  }
}
