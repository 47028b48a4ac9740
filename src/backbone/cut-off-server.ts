import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { isBackboneUnavailable } from "./errors.js";

/** How often JetStream's meta layer is asked whether it answers through our server. */
const CHECK_EVERY_MS = 2_000;
/**
 * Checks in a row without an answer before the connection moves: longer than the meta
 * leader's own election (a few seconds), so a node kill elsewhere moves no gateway.
 */
const SILENT_CHECKS = 4;

/**
 * A NATS server cut off from the rest of its cluster (a partition) keeps our connection up
 * while JetStream cannot answer through it: reads stall and the gateway stays unready until
 * the partition heals, although the other servers serve every stream. When JetStream's account
 * info (answered by the meta leader, which a cut-off server cannot reach) has not come back for
 * SILENT_CHECKS checks in a row while connected, the connection moves to another server of
 * the cluster; readers and webhook workers resume there as after any reconnect.
 * Answers what stops the watch.
 */
export function leaveCutOffServer(nc: NatsConnection, jsm: JetStreamManager, warn: (message: string) => void): () => void {
  let silent = 0;
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") connected = false;
      else if (status.type === "reconnect") connected = true;
    }
  })();
  let checking = false;
  const timer = setInterval(() => {
    if (checking || !connected || nc.isClosed() || nc.isDraining()) return;
    checking = true;
    void jsm
      .getAccountInfo()
      .then(
        () => (silent = 0),
        (err: unknown) => {
          if (!isBackboneUnavailable(err) || ++silent < SILENT_CHECKS || nc.getServers().length < 2) return;
          silent = 0;
          warn(`JetStream has not answered through ${nc.getServer()} for ${(SILENT_CHECKS * CHECK_EVERY_MS) / 1000} s: moving to another NATS server`);
          nc.reconnect().catch(() => undefined);
        },
      )
      .finally(() => (checking = false));
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
