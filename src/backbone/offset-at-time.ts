import { DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";

/**
 * The first offset stored at or after `time` (last offset + 1 when there is none yet).
 * Readers always start from an offset: an ordered consumer rebuilt after a reconnect must
 * not carry a start time (the server refuses start time and start sequence together).
 */
export async function offsetAtTime(js: JetStreamClient, stream: string, time: Date | string): Promise<number> {
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartTime,
    // A string goes as given, keeping nanoseconds that a Date would drop.
    // (Upper-cased: nats-server refuses RFC 3339's lower-case "t" and "z".)
    opt_start_time: typeof time === "string" ? time.toUpperCase() : time.toISOString(),
  });
  try {
    // The server places a start-time consumer just before the first matching sequence.
    const info = await consumer.info(true);
    return info.delivered.stream_seq + 1;
  } finally {
    void consumer.delete().catch(() => undefined);
  }
}
