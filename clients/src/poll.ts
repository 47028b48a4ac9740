import { EventBatch } from "../../generated/ts/streamgate/v1/event.js";
import { fromEventMessage, type Delivery } from "./events.js";
import { getOrLose, readQuery, type ReadSpec } from "./query.js";

const WAIT_SECONDS = 25;

/** Long polling with protobuf batches (exact int64 and nanoseconds), chaining `next`. */
export async function* readPoll(baseUrl: string, stream: string, spec: ReadSpec, signal: AbortSignal): AsyncGenerator<Delivery> {
  let current = spec;
  let polled = false;
  while (!signal.aborted) {
    const url = `${baseUrl}/v1/streams/${encodeURIComponent(stream)}/poll?${readQuery(current)}&wait=${WAIT_SECONDS}`;
    const response = await getOrLose(url, "application/x-protobuf", signal, "poll", polled);
    if (!response) return;
    polled = true;
    const batch = EventBatch.decode(new Uint8Array(await response.arrayBuffer()));
    if (batch.gap) {
      const { stream: s, requested, first, epoch } = batch.gap;
      yield { kind: "gap", gap: { stream: s, requested: Number(requested), first: Number(first), epoch } };
      // Chained polls carry the current generation, or each would report the same gap again.
      current = { ...current, epoch };
    }
    for (const event of batch.events) yield { kind: "event", event: fromEventMessage(event) };
    current = { ...current, position: { from: Number(batch.next) } };
  }
}
