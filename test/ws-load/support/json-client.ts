import { WebSocket } from "ws";

export interface ReceivedEvent {
  sub: string;
  offset: number;
  id: string;
  orderId: string | undefined;
  /** Every line item came back intact (the big orders of orders.ts). */
  itemsIntact: boolean;
}

/**
 * A `ws` client of the JSON subprotocol that records what it gets. It checks the one thing
 * the orders of orders.ts allow cheaply per event (40 line items whose SKUs name the order),
 * and keeps the rest small, so thousands of 11 KB events cost little memory here.
 */
export class JsonClient {
  readonly events: ReceivedEvent[] = [];
  /** Every frame that is not an event, as text. */
  readonly frames: string[] = [];
  closed?: { code: number; reason: string; at: number };
  errors: string[] = [];
  bytes = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => this.#frame(data));
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString(), at: Date.now() }));
    ws.on("error", (err) => this.errors.push(err.message));
  }

  static async open(url: string): Promise<JsonClient> {
    const ws = new WebSocket(url, "streamgate.v1.json", { perMessageDeflate: false });
    const client = new JsonClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    client.localPort = (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    return client;
  }

  /** The client's end of the TCP connection (kept after it closes). */
  localPort = 0;

  /** Bytes read from the TCP socket so far: it stops moving while the client is paused. */
  get bytesRead(): number {
    return (this.ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  async subscribe(frame: Record<string, unknown> & { sub: string }, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const seen = this.frames.length;
    this.send({ op: "subscribe", stream: "orders", ...frame });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const text of this.frames.slice(seen)) {
        const f = JSON.parse(text) as Record<string, unknown>;
        if (f.sub !== frame.sub) continue;
        if (f.op === "subscribed") return f;
        throw new Error(`subscribe ${frame.sub} answered ${text}`);
      }
      if (Date.now() > deadline) throw new Error(`no answer to subscribe ${frame.sub} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #frame(data: Buffer): void {
    this.bytes += data.length;
    const text = data.toString("utf8");
    if (!text.startsWith('{"op":"event"')) {
      this.frames.push(text);
      return;
    }
    const frame = JSON.parse(text) as {
      sub: string;
      event: { offset: number; id: string; data: { orderId?: string; items?: { sku: string }[] } | null };
    };
    const { event } = frame;
    const orderId = event.data?.orderId;
    const items = event.data?.items ?? [];
    this.events.push({
      sub: frame.sub,
      offset: event.offset,
      id: event.id,
      orderId,
      itemsIntact: items.length === 40 && items.every((item, i) => item.sku === `${orderId}/sku-${i}/` + "s".repeat(220)),
    });
  }
}

/** Problems with a run of received events against what was published; empty when it is exact. */
export function runProblems(received: readonly ReceivedEvent[], published: ReadonlyMap<number, string>, from: number, to: number): string[] {
  const problems: string[] = [];
  if (received.length !== to - from + 1) problems.push(`got ${received.length} events for offsets ${from}..${to} (${to - from + 1})`);
  for (let i = 0; i < received.length; i++) {
    const e = received[i]!;
    if (e.offset !== from + i) {
      problems.push(
        `at index ${i}: offset ${e.offset}, expected ${from + i} (offsets around: ${received
          .slice(Math.max(0, i - 3), i + 4)
          .map((r) => r.offset)
          .join(",")})`,
      );
      break;
    }
    const orderId = published.get(e.offset);
    if (e.orderId !== orderId || e.id !== `ev-${orderId}` || !e.itemsIntact) {
      problems.push(`offset ${e.offset}: got order ${e.orderId} (id ${e.id}, items intact ${e.itemsIntact}), published ${orderId}`);
      break;
    }
  }
  return problems;
}
