/**
 * The load every fault runs under: publishers with idempotency keys, WebSocket, SSE and
 * long-poll readers on every gateway (through the load balancer), three webhooks with real
 * receivers, and a probe of the webhook API. Started before the fault, drained after it.
 */
import { sleep } from "../support/wait.js";
import type { CheckInput } from "./checker.js";
import { DURATIONS } from "./mode.js";
import type { FaultWindow } from "./observations.js";
import { PollReader } from "./poll-reader.js";
import { PublisherPool } from "./publishers.js";
import type { Reader } from "./reader.js";
import { spreadReaders, type GatewayAddress } from "./spread.js";
import { SseReader } from "./sse-reader.js";
import { startWebhooks, type WebhookSink } from "./webhooks.js";
import { WebhookApiProbe } from "./api-probe.js";
import { WsReader } from "./ws-reader.js";

/** What the workload needs of the topology (a DevCluster has it). */
export interface Topology {
  /** The load balancer. */
  url: string;
  gateways: readonly (GatewayAddress & { pid: number })[];
}

const DRAIN_POLL_MS = 100;

export class Workload {
  readonly readers: Reader[] = [];
  webhooks: WebhookSink[] = [];
  publishers!: PublisherPool;
  probe!: WebhookApiProbe;
  /** The first offset of this workload's events. */
  from = 0;

  private constructor(private readonly topology: Topology) {}

  /** Starts it all, publishers last, so every reader and webhook is there for the first event. */
  static async start(topology: Topology, prefix: string): Promise<Workload> {
    const workload = new Workload(topology);
    try {
      await workload.#start(prefix);
    } catch (err) {
      await workload.close();
      throw err;
    }
    return workload;
  }

  async #start(prefix: string): Promise<void> {
    const { url, gateways } = this.topology;
    const info = await fetch(`${url}/v1/streams/orders`);
    if (info.status !== 200) throw new Error(`GET /v1/streams/orders answered ${info.status}: ${await info.text()}`);
    this.from = ((await info.json()) as { last_offset: number }).last_offset + 1;
    this.webhooks = await startWebhooks(url, this.from, () => gateways.map((g) => g.pid));
    this.probe = new WebhookApiProbe(url, () => this.webhooks.map((w) => w.id));
    const add = (reader: Reader) => this.readers.push(reader.start());
    await spreadReaders(gateways, "ws", () => add(new WsReader(url, `ws-${this.readers.length + 1}`, this.from)));
    await spreadReaders(gateways, "sse", () => add(new SseReader(url, `sse-${this.readers.length + 1}`, this.from)));
    // Each poll is a request of its own, which the balancer sends anywhere.
    for (let i = 0; i < gateways.length; i++) add(new PollReader(url, `poll-${i + 1}`, this.from));
    this.publishers = new PublisherPool({ baseUrl: url, prefix, publishers: DURATIONS.publishers, rate: DURATIONS.rate, deadlineMs: DURATIONS.publishDeadlineMs });
  }

  /**
   * Stops publishing, then waits (up to the drain time) until every reader and receiver has
   * every stored event. What is still missing then is left for the checker to count.
   */
  async stopAndDrain(): Promise<{ drainedInMs: number; drained: boolean }> {
    await this.publishers.stop();
    const offsets = this.publishers.logs.flatMap((log) => log.published.map((p) => p.offset));
    const end = Math.max(this.from - 1, ...offsets) + 1;
    const started = Date.now();
    const done = () => this.readers.every((r) => r.hasUpTo(end)) && this.webhooks.every((w) => w.hasAll(offsets));
    while (!done() && Date.now() - started < DURATIONS.drainMs) await sleep(DRAIN_POLL_MS);
    return { drainedInMs: Date.now() - started, drained: done() };
  }

  /** Stops everything, reads each webhook's counts, deletes the webhooks: what the checker takes. */
  async finish(fault: FaultWindow): Promise<CheckInput> {
    await Promise.all(this.readers.map((r) => r.stop()));
    await this.probe.stop();
    for (const hook of this.webhooks) await hook.finish(this.topology.url);
    await this.close();
    return {
      fault,
      publishers: this.publishers.logs,
      readers: this.readers.map((r) => r.log),
      webhooks: this.webhooks.map((w) => w.log),
      probes: [{ name: "webhook API", statuses: this.probe.statuses }],
    };
  }

  /** Ends whatever still runs; safe to call more than once. */
  async close(): Promise<void> {
    await this.publishers?.stop();
    await this.probe?.stop();
    await Promise.all(this.readers.map((r) => r.stop()));
    await Promise.all(this.webhooks.map((w) => w.close()));
  }
}
