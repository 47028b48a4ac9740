import { DEFAULT_MAX_PAYLOAD, storeEvent, type EventToStore, type StoreResult } from "../backbone/publish.js";
import type { Backbone } from "../backbone/connection.js";
import type { StreamDefinition } from "../schema/definitions.js";
import { isBinaryInput, type BinaryEventInput, type EventInput, type JsonEventInput } from "../protocol/publish.js";
import { prepareBinaryEvent, prepareJsonEvent } from "./event-input.js";
import type { Metrics } from "../metrics/metrics.js";
import { UnauthenticatedError } from "../auth/unauthenticated-error.js";
import { authorize } from "../auth/grants.js";
import type { Principal } from "../auth/principal.js";

/** Throws unless the principal may publish the event. */
function authorizePublish(event: EventToStore, principal: Principal | undefined): void {
  if (!principal) throw new UnauthenticatedError("a credential is required to publish");
  authorize(principal, { action: "publish", stream: event.stream, types: [event.type], key: event.key });
}

/** Checks and stores events for HTTP and WebSocket publishing alike, counting what is stored. */
export class Publisher {
  constructor(
    private readonly backbone: Pick<Backbone, "js" | "nc">,
    private readonly metrics: Metrics,
  ) {}

  /** The backbone's max_payload, as the server announced it. */
  get maxPayload(): number {
    return this.backbone.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** A batch is refused whole when any of its events is not the principal's to publish. */
  authorizeAll(events: readonly EventToStore[], principal: Principal | undefined): void {
    for (const event of events) authorizePublish(event, principal);
  }

  /** A JSON event checked against its schema; `path` prefixes error paths (e.g. "events[2]."). */
  json(stream: StreamDefinition, input: JsonEventInput, path = ""): EventToStore {
    return prepareJsonEvent(stream, input, this.maxPayload, path);
  }

  binary(stream: StreamDefinition, input: BinaryEventInput): EventToStore {
    return prepareBinaryEvent(stream, input, this.maxPayload);
  }

  /** An event in either form, as a WebSocket publish frame carries it. */
  input(stream: StreamDefinition, input: EventInput): EventToStore {
    return isBinaryInput(input) ? this.binary(stream, input) : this.json(stream, input);
  }

  /** Stores an event the principal may publish (its stream, type and key); refused before anything is stored otherwise. */
  async store(event: EventToStore, principal: Principal | undefined): Promise<StoreResult> {
    authorizePublish(event, principal);
    const result = await storeEvent(this.backbone.js, event, { maxPayload: this.maxPayload });
    if (!result.duplicate) this.metrics.published.add(1, { stream: event.stream });
    return result;
  }
}
