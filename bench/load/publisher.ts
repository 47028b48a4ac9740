/**
 * Load module: publishes OrderCreated events at an offered rate, when told to. To the gateway
 * through JetStream (stream `orders`, offsets as sequence numbers), or to a baseline by core NATS
 * publishes of the pre-encoded frame (sequence numbers from 1).
 *
 *   first message: { next }                      the sequence number the next event will have
 *   { op: "offer", rate, seconds } → OfferResult
 *   { op: "stop" }                 → report { published }
 */
import { connectBackbone } from "../../src/backbone/connection.js";
import { createProducer } from "../../src/typed/producer.js";
import { orders } from "../../generated/streams/index.js";
import { loadMain } from "../harness/load-main.js";
import { encodedFrame, orderCreated, type WireFormat } from "./events.js";
import { atOfferedRate } from "./offered-rate.js";
import { nowMicros } from "./publish-time.js";

export type PublisherArgs = { natsUrl: string } & ({ to: "jetstream" } | { to: "core"; subject: string; format: WireFormat });

export type PublisherCommand = { op: "offer"; rate: number; seconds: number } | { op: "stop" };

export interface OfferResult {
  first: number;
  last: number;
  /** Wall clock, ms: when the first event was sent (the schedule's start). */
  startedAt: number;
}

loadMain<PublisherArgs, { published: number }>(async (args, parent) => {
  const backbone = await connectBackbone(args.natsUrl, "bench-publisher");
  let next = args.to === "jetstream" ? (await backbone.jsm.streams.info("orders")).state.last_seq + 1 : 1;
  const producer = createProducer(backbone.js, orders);
  parent.send({ next });

  const publishOne = async (sequence: number): Promise<void> => {
    const published = nowMicros();
    if (args.to === "core") {
      backbone.nc.publish(args.subject, encodedFrame(args.format, sequence, published));
      return;
    }
    const { offset } = await producer.publish(orderCreated(sequence, published));
    // Only this process publishes to the stream: any other offset means the check below is off.
    if (offset !== sequence) throw new Error(`event ${sequence} was stored at offset ${offset}`);
  };

  for (let command = await parent.next<PublisherCommand>(); command.op === "offer"; command = await parent.next<PublisherCommand>()) {
    const first = next;
    const total = Math.max(1, Math.round(command.rate * command.seconds));
    const pending: Promise<void>[] = [];
    const startedAt = Date.now();
    await atOfferedRate(command.rate, total, () => pending.push(publishOne(next++)));
    await Promise.all(pending);
    await backbone.nc.flush();
    parent.send({ first, last: next - 1, startedAt } satisfies OfferResult);
  }
  await backbone.close();
  return { published: next - 1 };
});
