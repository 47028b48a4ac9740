import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on a free loopback port; resolves to host:port. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", 1024, () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}
