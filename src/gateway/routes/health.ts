import type { FastifyPluginAsync } from "fastify";
import type { NatsConnection } from "@nats-io/transport-node";

const READY_CHECK_TIMEOUT_MS = 1_000;

/** /healthz: the process answers. /readyz: the backbone answers too, within a second. */
export const healthRoutes: FastifyPluginAsync<{ nc: NatsConnection }> = async (app, { nc }) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    if (await backboneAnswers(nc)) return { status: "ready" };
    return reply
      .code(503)
      .header("retry-after", "1")
      .send({ error: { code: "unavailable", message: "the NATS backbone is not reachable" } });
  });
};

async function backboneAnswers(nc: NatsConnection): Promise<boolean> {
  if (nc.isClosed()) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READY_CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([nc.rtt().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
