/** A subscriber connection of one protocol, as the subscribers load module drives it. */
export interface SubscriberTarget {
  protocol: "ws" | "sse" | "nats-ws";
  /** The whole URL: the gateway's stream endpoint with its position, or a baseline's. */
  url: string;
  /** nats-ws: the core subject to subscribe to. */
  subject?: string;
  /** ws: the gateway's subprotocol, whose `subscribed` frame then marks the client ready. */
  subprotocol?: string;
}

/** An event received: its sequence number (offset) and its createdAt (the publish time) as sent. */
export type OnEvent = (sequence: number, createdAt: string) => void;

export interface Subscriber {
  close(): void;
}

export interface Callbacks {
  onEvent: OnEvent;
  /** The connection ended without close() having been called. */
  onLost: (why: string) => void;
}

export type Connect = (target: SubscriberTarget, callbacks: Callbacks) => Promise<Subscriber>;

const EVENT_FRAME = '{"op":"event"';
const OFFSET = '"offset":';
const CREATED_AT = '"createdAt":"';

/**
 * An event's offset and createdAt, read out of its envelope's JSON text without parsing the
 * rest: on two cores the subscribers share the machine with the server they measure, and
 * JSON.parse of every frame would make them the bottleneck sooner. (The envelope has one
 * "offset", and only the event's data has a "createdAt".)
 */
export function onEnvelope(text: string, onEvent: OnEvent): void {
  const offsetAt = text.indexOf(OFFSET) + OFFSET.length;
  const createdAt = text.indexOf(CREATED_AT) + CREATED_AT.length;
  if (offsetAt < OFFSET.length || createdAt < CREATED_AT.length) throw new Error(`not an event envelope: ${text}`);
  onEvent(Number.parseInt(text.slice(offsetAt, offsetAt + 20), 10), text.slice(createdAt, text.indexOf('"', createdAt)));
}

/** A gateway WebSocket frame (or the same bytes from a baseline): events go to onEvent, error frames throw. */
export function onWsFrame(text: string, onEvent: OnEvent): string {
  const op = text.startsWith(EVENT_FRAME) ? "event" : (JSON.parse(text) as { op: string }).op;
  if (op === "event") onEnvelope(text, onEvent);
  else if (op === "error") throw new Error(`error frame: ${text}`);
  return op;
}
