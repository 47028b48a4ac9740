/**
 * Load module: raw JetStream publishing, the baseline of the publish scenarios and the filler
 * of catch-up. `inFlight` js.publish calls at a time of the bench event (the bytes, subject and
 * headers the gateway would store), each with its own Nats-Msg-Id as the gateway gives one.
 * Args: RawPublishArgs; "ready", then "go"; report: LoopResult (units: events acknowledged).
 */
import { randomUUID } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { loadMain } from "../harness/load-main.js";
import { readyThenGo } from "./go.js";
import { EVENT_DATA, EVENT_SUBJECT, eventHeaders } from "./order-event.js";
import { runLoop, type LoopPlan, type LoopResult } from "./timed-loop.js";

export interface RawPublishArgs extends Omit<LoopPlan, "workers"> {
  natsUrl: string;
  inFlight: number;
  /** Ids are `<idPrefix><index>` (unique within the run); random UUIDs without it. */
  idPrefix?: string;
}

loadMain<RawPublishArgs, LoopResult>(async (args, parent) => {
  const nc = await connect({ servers: args.natsUrl, noAsyncTraces: true });
  const js = jetstream(nc);
  await readyThenGo(parent);
  const result = await runLoop({ ...args, workers: args.inFlight }, async (index) => {
    const msgID = args.idPrefix === undefined ? randomUUID() : `${args.idPrefix}${index}`;
    const ack = await js.publish(EVENT_SUBJECT, EVENT_DATA, { msgID, headers: eventHeaders(), timeout: 30_000 });
    if (ack.duplicate) throw new Error(`event ${msgID} was stored before`);
    return 1;
  });
  await nc.drain();
  return result;
});
