import type { FastifyInstance } from "fastify";

export interface ServedRoute {
  method: string;
  /** Fastify's syntax: `:name` for a parameter. */
  path: string;
}

const TREE_LINE = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, -]+)\))?$/;

/**
 * Every method and path a running fastify app routes, read from its own route tree
 * (printRoutes), so nothing the test writes down can miss a route added later.
 */
export function servedRoutes(app: FastifyInstance): ServedRoute[] {
  const segments: string[] = [];
  const routes: ServedRoute[] = [];
  const lines = app.printRoutes({ commonPrefix: false }).split("\n").filter((line) => line.trim() !== "");
  for (const line of lines) {
    const match = TREE_LINE.exec(line);
    if (!match) throw new Error(`printRoutes gave a line this parser does not know: ${JSON.stringify(line)}`);
    const [, indent, segment, methods] = match;
    segments.length = indent!.length / 4;
    segments.push(segment!);
    for (const method of methods?.split(", ") ?? []) if (method !== "-") routes.push({ method, path: segments.join("") });
  }
  return routes;
}

/** A fastify path as OpenAPI writes it: `/:stream` is `/{stream}`; a colon inside a segment is a literal one. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/\/:(\w+)/g, "/{$1}");
}
