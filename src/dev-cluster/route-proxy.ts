import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP relay on loopback that one node dials to reach another's cluster port. Owning the
 * relay is what lets a partition drop a node's routes while its clients stay connected.
 */
export class RouteProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;
  #targetPort: number | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on a free port of host; relays every connection to host:<the port pointAt() names>. */
  static async listen(host: string): Promise<RouteProxy> {
    const server = createServer();
    const proxy = new RouteProxy(server);
    server.on("connection", (socket) => proxy.#relay(socket, host));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("the route proxy is not listening");
    return address.port;
  }

  /** Where connections go from now on; until it is called, they are refused. */
  pointAt(targetPort: number): void {
    this.#targetPort = targetPort;
  }

  /** Drops every relayed connection and refuses new ones until restore(). */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  restore(): void {
    this.#cut = false;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.cut();
    await closed;
  }

  #relay(downstream: Socket, host: string): void {
    if (this.#cut || this.#targetPort === undefined) {
      downstream.destroy();
      return;
    }
    const upstream = connect(this.#targetPort, host);
    for (const [socket, other] of [
      [downstream, upstream],
      [upstream, downstream],
    ] as const) {
      this.#sockets.add(socket);
      // nats-server tells a refused or broken route by the connection closing; the reason is its own log's business.
      socket.on("error", () => other.destroy());
      socket.on("close", () => {
        this.#sockets.delete(socket);
        other.destroy();
      });
      socket.setNoDelay(true);
      socket.pipe(other);
    }
  }
}
