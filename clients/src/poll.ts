import type { ClientWireCodec } from "@streamgate/protocol/codec";
import type { Delivery } from "./events.js";
import { getOrLose, readUrl, type HttpRead } from "./query.js";

const WAIT_SECONDS = 25;

/** Long polling with batches in the client's codec, chaining `next`. */
export async function* readPoll(read: HttpRead, codec: ClientWireCodec): AsyncGenerator<Delivery> {
  const { signal, headers } = read;
  let current = read.spec;
  let polled = false;
  while (!signal.aborted) {
    const url = readUrl(read, "poll", current, `&wait=${WAIT_SECONDS}`);
    const response = await getOrLose(url, { accept: codec.contentType, headers, signal, what: "poll", everConnected: polled });
    if (!response) return;
    polled = true;
    const batch = codec.decodeBatch(new Uint8Array(await response.arrayBuffer()));
    if (batch.gap) {
      yield { kind: "gap", gap: batch.gap };
      // Chained polls carry the current generation, or each would report the same gap again.
      current = { ...current, epoch: batch.gap.epoch };
    }
    for (const event of batch.events) yield { kind: "event", event };
    current = { ...current, position: { from: batch.next } };
  }
}
