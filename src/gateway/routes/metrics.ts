import type { FastifyPluginAsync } from "fastify";
import type { Metrics } from "../../metrics/metrics.js";

/** GET /metrics: Prometheus' text format (PROTOCOL.md section 7). */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics",
        tags: ["operations"],
        security: [],
        response: { 200: { description: "The Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } } },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
};
