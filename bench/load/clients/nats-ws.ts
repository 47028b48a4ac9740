import { wsconnect } from "@nats-io/nats-core";
import WebSocket from "ws";
import { onWsFrame, type Connect } from "./types.js";

/** A NATS client over nats-server's own WebSocket listener, on a core subject. */
export const connectNatsWs: Connect = async (target, { onEvent, onLost }) => {
  const nc = await wsconnect({
    servers: target.url,
    maxReconnectAttempts: 0,
    // Node 20 has no global WebSocket; `ws` (the other clients' too) has every member nats-core
    // uses (binaryType, the on* handlers, send, close), though not the DOM type's whole surface.
    wsFactory: async (url: string) => ({
      socket: new WebSocket(url, { perMessageDeflate: false }) as unknown as globalThis.WebSocket,
      encrypted: false,
    }),
  });
  let closing = false;
  nc.subscribe(target.subject!, {
    callback: (error, message) => {
      if (error) onLost(error.message);
      else onWsFrame(message.string(), onEvent);
    },
  });
  await nc.flush();
  void nc.closed().then(() => {
    if (!closing) onLost("the NATS connection closed");
  });
  return {
    close: () => {
      closing = true;
      void nc.close();
    },
  };
};
