/** The systems a fan-out is measured on: the gateway and its baselines, each on fresh processes. */
import type { FanoutSystem } from "./fanout.js";
import type { WireFormat } from "../load/events.js";

const SUBJECT = "bench.orders";

/**
 * The gateway, reading stream `orders` over WebSocket (`streamgate.v1.json`) or SSE; `variant`
 * names a gateway run with other settings (its environment), as a baseline of its own.
 */
export function streamgate(protocol: "ws" | "sse", variant?: { name: string; env: Record<string, string> }): FanoutSystem {
  return {
    name: variant?.name ?? "streamgate",
    async start(ctx) {
      const nats = await ctx.nats();
      const gateway = await ctx.gateway(nats.url, variant?.env);
      const base = gateway.url.replace(/^http/, protocol === "ws" ? "ws" : "http");
      return {
        server: gateway,
        publisher: { natsUrl: nats.url, to: "jetstream" },
        target: (first) =>
          protocol === "ws"
            ? { protocol, url: `${base}/v1/streams/orders/ws?from=${first}`, subprotocol: "streamgate.v1.json" }
            : { protocol, url: `${base}/v1/streams/orders/sse?from=${first}` },
        stop: async () => {
          await gateway.stop();
          await nats.stop();
        },
      };
    },
  };
}

/** A ceiling server (bench/ceiling/), fed by core NATS with the pre-encoded frames of `format`. */
export function ceiling(format: WireFormat): FanoutSystem {
  return {
    name: "ceiling",
    async start(ctx) {
      const nats = await ctx.nats();
      const server = await ctx.server(`ceiling/${format}-server.ts`, { natsUrl: nats.url, subject: SUBJECT });
      return {
        server,
        publisher: { natsUrl: nats.url, to: "core", subject: SUBJECT, format },
        target: () => ({ protocol: format, url: server.url }),
        stop: async () => {
          await server.stop();
          await nats.stop();
        },
      };
    },
  };
}

/** nats-server's own WebSocket listener, with NATS WebSocket clients on a core subject. */
export const natsWs: FanoutSystem = {
  name: "nats-ws",
  async start(ctx) {
    const nats = await ctx.nats({ websocket: true });
    return {
      server: nats,
      publisher: { natsUrl: nats.url, to: "core", subject: SUBJECT, format: "ws" },
      target: () => ({ protocol: "nats-ws", url: nats.wsUrl!, subject: SUBJECT }),
      stop: () => nats.stop(),
    };
  },
};
