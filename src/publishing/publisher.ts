import { DEFAULT_MAX_PAYLOAD, storeEvents, type EventToStore, type StoreResult } from "../backbone/publish.js";
import { PublishQueue } from "../backbone/publish-queue.js";
import type { Registry } from "@bufbuild/protobuf";
import type { Backbone } from "../backbone/connection.js";
import type { StreamDefinition } from "../schema/definitions.js";
import { isBinaryInput, type BinaryEventInput, type EventInput, type JsonEventInput } from "@streamgate/protocol/publish";
import { prepareBinaryEvent, prepareJsonEvent } from "./event-input.js";
import type { Metrics } from "../metrics/metrics.js";
import type { PublishOutcome, PublishProtocol } from "../metrics/publish-metrics.js";
import { toApiError } from "../delivery/errors.js";
import { UnauthenticatedError } from "../auth/unauthenticated-error.js";
import { authorize } from "../auth/grants.js";
import type { Principal } from "../auth/principal.js";
import type { Limits } from "../delivery/limits.js";

/** Throws unless the principal may publish every one of the events. */
function authorizePublish(events: readonly EventToStore[], principal: Principal | undefined): asserts principal is Principal {
  if (!principal) throw new UnauthenticatedError("a credential is required to publish");
  for (const event of events) authorize(principal, { action: "publish", stream: event.stream, types: [event.type], key: event.key });
}

/**
 * Checks and stores events for HTTP and WebSocket publishing alike, counting and timing what is
 * stored and holding each credential to its publishes per second (PROTOCOL.md section 9.5).
 */
export class Publisher {
  /** Every publish goes through it, so those of one event-loop turn share a socket write. */
  readonly #queue: PublishQueue;

  constructor(
    private readonly backbone: Pick<Backbone, "js" | "nc">,
    /** Resolves what a google.protobuf.Any in a JSON event holds. */
    private readonly registry: Registry,
    private readonly metrics: Metrics,
    private readonly limits: Limits,
    /** How long a publish is tried again through an election before it is answered unavailable. */
    private readonly retryForMs: number,
  ) {
    this.#queue = new PublishQueue(backbone.js);
  }

  /** The backbone's max_payload, as the server announced it. */
  get maxPayload(): number {
    return this.backbone.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** A JSON event checked against its schema; `path` prefixes error paths (e.g. "events[2]."). */
  json(stream: StreamDefinition, input: JsonEventInput, path = ""): EventToStore {
    return prepareJsonEvent(stream, input, this.maxPayload, this.registry, path);
  }

  binary(stream: StreamDefinition, input: BinaryEventInput): EventToStore {
    return prepareBinaryEvent(stream, input, this.maxPayload);
  }

  /** An event in either form, as a WebSocket publish frame carries it. */
  input(stream: StreamDefinition, input: EventInput): EventToStore {
    return isBinaryInput(input) ? this.binary(stream, input) : this.json(stream, input);
  }

  /**
   * Stores an event the principal may publish (its stream, type and key) within its rate;
   * refused before anything is stored otherwise.
   */
  async store(event: EventToStore, principal: Principal | undefined, protocol: "http" | "ws"): Promise<StoreResult> {
    return this.#timed(protocol, (result) => (result.duplicate ? "duplicate" : "stored"), async () => {
      authorizePublish([event], principal);
      this.limits.publish(principal);
      return (await this.#store([event]))[0]!;
    });
  }

  /**
   * A batch is refused whole when any of its events is not the principal's to publish, or its
   * rate has no room for it; else its events are stored pipelined, in order.
   */
  async storeAll(events: readonly EventToStore[], principal: Principal | undefined): Promise<StoreResult[]> {
    return this.#timed("http_batch", () => "stored", async () => {
      authorizePublish(events, principal);
      this.limits.publish(principal, events.length);
      return this.#store(events);
    });
  }

  async #store(events: readonly EventToStore[]): Promise<StoreResult[]> {
    const results = await storeEvents(this.#queue, events, { maxPayload: this.maxPayload, retryForMs: this.retryForMs });
    results.forEach((result, i) => {
      if (!result.duplicate) this.metrics.publishing.stored(events[i]!.stream);
    });
    return results;
  }

  /** Runs a publish, timing it by how it ended. */
  async #timed<T>(protocol: PublishProtocol, outcomeOf: (result: T) => PublishOutcome, publish: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      const result = await publish();
      this.metrics.publishing.answered(protocol, outcomeOf(result), startedAt);
      return result;
    } catch (err) {
      const { status } = toApiError(err);
      this.metrics.publishing.answered(protocol, status === 503 ? "unavailable" : status < 500 ? "refused" : "failed", startedAt);
      throw err;
    }
  }
}
