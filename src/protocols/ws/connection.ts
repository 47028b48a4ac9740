import type { WebSocket } from "ws";
import { Connection } from "../../delivery/connection.js";
import { CLOSE_CODES } from "@streamgate/protocol/errors";

/** A WebSocket's connection: told to reconnect elsewhere (1012) when the gateway shuts down, once its socket is there. */
export class WsConnection extends Connection {
  /** Set at the upgrade: a connection counted before it (to check the URL's subscription) has none yet. */
  socket: WebSocket | undefined;

  override shutDown(): void {
    super.shutDown();
    this.socket?.close(CLOSE_CODES.restarting, "gateway restarting: reconnect and resume");
  }
}
