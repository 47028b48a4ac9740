/**
 * A few counters and gauges in the Prometheus text format (GET /metrics). Small enough that a
 * client library would be more code to read than this.
 */
type Labels = Record<string, string>;

class Series {
  #values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
  ) {}

  add(amount = 1, labels: Labels = {}): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + amount);
  }

  /** The series of one label set, for hot paths: the label text is made once, here. */
  labelled(labels: Labels): (amount?: number) => void {
    const key = labelText(labels);
    return (amount = 1) => this.#values.set(key, (this.#values.get(key) ?? 0) + amount);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [labels, value] of this.#values) lines.push(`${this.name}${labels} ${value}`);
    return lines.join("\n");
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

export class Metrics {
  readonly published = new Series("streamgate_events_published_total", "Events stored through the gateway.", "counter");
  readonly delivered = new Series("streamgate_events_delivered_total", "Events sent to clients, by protocol.", "counter");
  readonly connections = new Series("streamgate_open_connections", "Open SSE responses, long polls and WebSockets.", "gauge");

  render(): string {
    const memory = process.memoryUsage();
    const process_ = [
      "# HELP process_resident_memory_bytes Resident memory of the gateway process.",
      "# TYPE process_resident_memory_bytes gauge",
      `process_resident_memory_bytes ${memory.rss}`,
      "# HELP nodejs_heap_used_bytes V8 heap in use.",
      "# TYPE nodejs_heap_used_bytes gauge",
      `nodejs_heap_used_bytes ${memory.heapUsed}`,
    ];
    return [this.published, this.delivered, this.connections].map((s) => s.render()).concat(process_).join("\n") + "\n";
  }

  /** Counts an open connection of a protocol until the returned function is called. */
  open(protocol: string): () => void {
    this.connections.add(1, { protocol });
    let closed = false;
    return () => {
      if (!closed) this.connections.add(-1, { protocol });
      closed = true;
    };
  }
}
