import type { FastifyPluginAsync, FastifySchema } from "fastify";
import type { JetStreamManager } from "@nats-io/jetstream";
import { ApiError } from "@streamgate/protocol/errors";

/** How long /readyz waits for JetStream, all streams asked at once. */
const READY_CHECK_BUDGET_MS = 1_000;

export interface HealthRouteOptions {
  jsm: JetStreamManager;
  /** Every JetStream stream the gateway serves or keeps its state in. */
  streams: readonly string[];
}

/**
 * /healthz: the process answers. /readyz: JetStream itself answers for each of the gateway's
 * streams within a second; a NATS connection alone says nothing about JetStream.
 */
export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, { jsm, streams }) => {
  app.get("/healthz", { schema: statusSchema("The process answers", "ok") }, async () => ({ status: "ok" }));

  app.get("/readyz", { schema: statusSchema("Ready: JetStream answers for every stream the gateway serves or keeps its state in (else 503)", "ready") }, async () => {
    const silent = await streamsNotAnswering(jsm, streams, READY_CHECK_BUDGET_MS);
    if (silent.length > 0) throw new ApiError("unavailable", `JetStream does not answer for ${silent.join("; ")}`, undefined, 1);
    return { status: "ready" };
  });
};

/** Public, with auth on too: supervisors and load balancers carry no credential. */
function statusSchema(summary: string, status: string): FastifySchema {
  return {
    summary,
    tags: ["operations"],
    security: [],
    response: { 200: { description: summary, type: "object", properties: { status: { type: "string", enum: [status] } }, required: ["status"] } },
  };
}

/** The streams whose info JetStream did not give within budgetMs, each with what went wrong. */
async function streamsNotAnswering(jsm: JetStreamManager, streams: readonly string[], budgetMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${budgetMs} ms`), budgetMs)));
  try {
    const problems = await Promise.all(
      streams.map(async (stream) => {
        const asked = jsm.streams.info(stream).then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        );
        const problem = await Promise.race([asked, budget]);
        return problem === undefined ? undefined : `${stream} (${problem})`;
      }),
    );
    return problems.filter((problem) => problem !== undefined);
  } finally {
    clearTimeout(timer);
  }
}
