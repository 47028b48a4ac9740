/**
 * The methods each route path answers, so a wrong method on a known path is a 405 with Allow
 * (PROTOCOL.md section 4), not a 404.
 */
export class RouteTable {
  readonly #routes: { pattern: RegExp; methods: Set<string> }[] = [];
  readonly #byUrl = new Map<string, Set<string>>();

  add(method: string | string[], url: string): void {
    let methods = this.#byUrl.get(url);
    if (!methods) {
      methods = new Set();
      this.#byUrl.set(url, methods);
      this.#routes.push({ pattern: pathPattern(url), methods });
    }
    for (const m of [method].flat()) methods.add(m.toUpperCase());
  }

  /** The methods a path answers (CORS preflights aside); none for an unknown path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.#routes) if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
    methods.delete("OPTIONS");
    return [...methods].sort();
  }
}

/** Fastify's route syntax: `:name` is one segment, `::` a literal colon. */
function pathPattern(url: string): RegExp {
  const source = url
    .split("::")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]\w*/g, "[^/]+"))
    .join(":");
  return new RegExp(`^${source}$`);
}
