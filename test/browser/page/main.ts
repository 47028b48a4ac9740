/**
 * The page entry of test/browser/client.test.ts, bundled by esbuild for platform "browser":
 * the typed client as an application would use it. It keeps what it sees in `window.sg.state`
 * for the test to read, and offers subscribe/publish/stop to the test's page.evaluate calls.
 */
import { createClient, type Protocol, type Published, type StreamgateClient } from "../../../clients/src/index.js";
import { orders, type OrdersEvent } from "../../../generated/streams/index.js";
import { eventOf, type EventSpec, type Fields, type Row } from "../orders-fixture.js";

export interface PageState {
  rows: Row[];
  reconnects: { protocol: Protocol; attempt: number; reason: string; at: number }[];
  gaps: unknown[];
  unreadable: string[];
  /** Set when the subscription ended: how (it never should while the test runs). */
  ended: string | null;
  /** Results of publishInBackground, in the order they settled. */
  published: { orderId: string; via: "http" | "ws"; result?: Published; error?: string }[];
}

export interface PageApi {
  state: PageState;
  subscribe(options: { baseUrl: string; protocol: Protocol; from: number }): void;
  publish(baseUrl: string, spec: EventSpec, via: "http" | "ws"): Promise<Published>;
  /** Starts a publish and returns at once; its outcome lands in state.published. */
  publishInBackground(baseUrl: string, spec: EventSpec, via: "http" | "ws"): void;
  stop(): Promise<void>;
}

export type SgWindow = { sg: PageApi };

/** The type-specific fields, read after narrowing on event.type. */
function fieldsOf(event: OrdersEvent): Fields {
  switch (event.type) {
    case "demo.orders.v1.OrderCreated": {
      const { data } = event;
      const item = data.items[0];
      return {
        orderId: data.orderId,
        customerId: data.customerId,
        currency: data.currency,
        totalCents: data.totalCents.toString(),
        totalCentsIsBigint: typeof data.totalCents === "bigint",
        unitPriceCents: item ? item.unitPriceCents.toString() : "(no item)",
        quantity: item ? item.quantity : -1,
        createdAtSeconds: data.createdAt ? data.createdAt.seconds.toString() : "(none)",
        createdAtNanos: data.createdAt ? data.createdAt.nanos : -1,
      };
    }
    case "demo.orders.v1.OrderShipped":
      return { orderId: event.data.orderId, carrier: event.data.carrier, trackingNumber: event.data.trackingNumber };
    case "demo.orders.v1.OrderCancelled":
      return { orderId: event.data.orderId, reason: event.data.reason, note: event.data.note };
    default:
      // A type added to the stream later (the README tour adds one) is shown as it came.
      return { unexpected: JSON.stringify(event, (_, value: unknown) => (typeof value === "bigint" ? value.toString() : value)) };
  }
}

const state: PageState = { rows: [], reconnects: [], gaps: [], unreadable: [], ended: null, published: [] };
const clients = new Map<string, StreamgateClient>();
const clientFor = (baseUrl: string) => {
  let client = clients.get(baseUrl);
  if (!client) clients.set(baseUrl, (client = createClient({ baseUrl })));
  return client;
};
const controller = new AbortController();
let reading: Promise<void> | undefined;

const publish = (baseUrl: string, spec: EventSpec, via: "http" | "ws") =>
  clientFor(baseUrl).publish(orders, eventOf(spec), { via, id: `evt-${spec.orderId}` });

const api: PageApi = {
  state,
  subscribe({ baseUrl, protocol, from }) {
    const subscription = clientFor(baseUrl).subscribe(orders, {
      protocol,
      position: { from },
      signal: controller.signal,
      onGap: (gap) => state.gaps.push(gap),
      onReconnect: (info) => state.reconnects.push({ ...info, at: Date.now() }),
      onUnreadable: (err) => state.unreadable.push(err.message),
    });
    reading = (async () => {
      try {
        for await (const event of subscription) {
          state.rows.push({
            offset: event.offset,
            id: event.id,
            key: event.key ?? null,
            type: event.type,
            time: event.time.toISOString(),
            fields: fieldsOf(event),
          });
        }
        state.ended = controller.signal.aborted ? "stopped" : "returned";
      } catch (err) {
        state.ended = `threw ${(err as Error).name}: ${(err as Error).message}`;
      }
    })();
  },
  publish,
  publishInBackground(baseUrl, spec, via) {
    publish(baseUrl, spec, via).then(
      (result) => state.published.push({ orderId: spec.orderId, via, result }),
      (err: Error) => state.published.push({ orderId: spec.orderId, via, error: `${err.name}: ${err.message}` }),
    );
  },
  async stop() {
    controller.abort();
    await reading;
    for (const client of clients.values()) await client.close();
  },
};

(window as unknown as SgWindow).sg = api;
