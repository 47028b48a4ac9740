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

interface EventFrame {
  op: string;
  event?: { offset: number; data: { createdAt: string } };
  message?: string;
}

/** A gateway WebSocket frame (or the same bytes from a baseline): events go to onEvent, errors throw. */
export function onWsFrame(text: string, onEvent: OnEvent): string | undefined {
  const frame = JSON.parse(text) as EventFrame;
  if (frame.op === "event") onEvent(frame.event!.offset, frame.event!.data.createdAt);
  else if (frame.op === "error") throw new Error(`error frame: ${text}`);
  return frame.op;
}
