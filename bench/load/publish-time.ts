/**
 * The publish time carried in each event (OrderCreated.createdAt), in microseconds of wall
 * time: every process on the machine reads the same clock, so a subscriber's receive time
 * minus it is the publish-to-receive latency.
 */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function timestampOf(micros: number): { seconds: bigint; nanos: number } {
  return { seconds: BigInt(Math.floor(micros / 1e6)), nanos: (micros % 1e6) * 1000 };
}

/** RFC 3339 with microseconds, as proto3 JSON writes such a Timestamp. */
export function rfc3339OfMicros(micros: number): string {
  const seconds = new Date(Math.floor(micros / 1e6) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${String(micros % 1e6).padStart(6, "0")}Z`;
}

/** Microseconds of an RFC 3339 UTC time with any number of fraction digits. */
export function microsOfRfc3339(text: string): number {
  const dot = text.indexOf(".", 17);
  const wholeSeconds = Date.parse(`${text.slice(0, 19)}Z`) * 1000;
  if (dot < 0) return wholeSeconds;
  const fraction = text.slice(dot + 1, text.length - 1);
  return wholeSeconds + Math.round(Number(fraction) / 10 ** (fraction.length - 6));
}
