/**
 * What both ceilings share: a load process (args { natsUrl, subject }) that listens on a free
 * loopback port, sends `{ url }`, hands every message of one core NATS subscription to
 * `broadcast`, and ends at the runner's next message ({ op: "stop" }).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "@nats-io/transport-node";
import { loadMain } from "../harness/load-main.js";

export interface CeilingArgs {
  natsUrl: string;
  subject: string;
}

export function ceilingMain(scheme: "ws" | "http", start: () => { server: Server; broadcast(payload: Uint8Array): void }): void {
  loadMain<CeilingArgs, Record<string, never>>(async ({ natsUrl, subject }, parent) => {
    const { server, broadcast } = start();
    const nc = await connect({ servers: natsUrl });
    nc.subscribe(subject, { callback: (_error, message) => broadcast(message.data) });
    await nc.flush();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", 1024, () => resolve((server.address() as AddressInfo).port));
    });
    parent.send({ url: `${scheme}://127.0.0.1:${port}/` });
    await parent.next();
    await nc.close();
    server.close();
    return {};
  });
}
