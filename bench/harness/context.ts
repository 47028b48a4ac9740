/** The BenchContext of one repetition: everything it starts is stopped when `scope` closes. */
import { startGateway } from "./gateway.js";
import { forkLoad } from "./load-process.js";
import { startNats } from "./nats.js";
import type { Scope } from "./scope.js";
import type { BenchContext } from "./types.js";

export function benchContext(quick: boolean, scope: Scope, log: (line: string) => void): BenchContext {
  return {
    quick,
    log,
    nats: (options = {}) => startNats(options, scope),
    gateway: (natsUrl, env = {}) => startGateway(natsUrl, env, scope),
    load: async (module, args) => forkLoad(module, args, scope),
    server: async (module, args) => {
      const server = forkLoad<unknown>(module, args, scope);
      const { url } = (await server.nextMessage()) as { url: string };
      return { ...server, url };
    },
  };
}
