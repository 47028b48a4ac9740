/**
 * Load module, the catch-up baseline: a raw JetStream ordered consumer reading orders from
 * offset 1 with nats.js's overlapping pulls, decoding nothing.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { STREAM } from "./order-event.js";
import { replay } from "./replay.js";

/** As many as the gateway's live feed prefetches (READ_PREFETCH_MAX_EVENTS in src/backbone/reader.ts). */
const PREFETCH = 512;

replay(async (url, tally, signal) => {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  try {
    const consumer = await jetstream(nc).consumers.get(STREAM, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 1 });
    const messages = await consumer.consume({ max_messages: PREFETCH });
    signal.addEventListener("abort", () => void messages.stop(), { once: true });
    for await (const msg of messages) {
      tally.see(msg.seq);
      if (tally.done) break;
    }
  } finally {
    await nc.close();
  }
});
