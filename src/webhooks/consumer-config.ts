import { AckPolicy, type ConsumerConfig, type JetStreamManager } from "@nats-io/jetstream";
import { millis, nanos } from "@nats-io/transport-node";
import type { Webhook } from "./registration.js";

/**
 * How long JetStream waits for word from the gateway holding an event before it hands the event
 * to another. Short, so a dead gateway's events are taken over within seconds; a live gateway
 * keeps every event it holds (however long its attempt takes) with a heartbeat well inside it.
 */
export const ACK_WAIT_MS = 2_000;
/** The heartbeat (`msg.working()`) of every event a gateway holds: four chances per ack wait. */
export const HEARTBEAT_MS = ACK_WAIT_MS / 4;

/** What both of a webhook's consumers (its stream's and its redeliveries') share. */
export function sharedConsumerConfig(webhook: Webhook): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: webhook.id,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
    max_ack_pending: webhook.maxInFlight,
    max_deliver: -1,
  };
}

/**
 * Brings a consumer made by an earlier version (ack wait = timeout + 5 s) to ACK_WAIT_MS, in
 * place: its position and pending events stay as they are.
 */
export async function updateAckWait(jsm: JetStreamManager, stream: string, durable: string): Promise<void> {
  const { config } = await jsm.consumers.info(stream, durable);
  if (millis(config.ack_wait ?? 0) === ACK_WAIT_MS) return;
  await jsm.consumers.update(stream, durable, { ack_wait: nanos(ACK_WAIT_MS) });
}
