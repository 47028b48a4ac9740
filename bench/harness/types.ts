/**
 * The contract between the bench runner and its scenarios. A scenario measures one path of the
 * gateway and, in the same repetition, the baselines it is compared with; the runner repeats
 * it, takes medians, and writes the report. Ratios are taken within one repetition, because
 * these machines are shared and noisy.
 */

/** A process the scenario started, watched for CPU and memory. */
export interface Watched {
  readonly pid: number;
  /** CPU seconds (user + system) used so far, from /proc. */
  cpuSeconds(): Promise<number>;
  /** Resident memory now, in bytes, from /proc. */
  rssBytes(): Promise<number>;
}

/** A process the repetition started: stopped when the repetition ends, or earlier by stop(). */
export interface Running extends Watched {
  /** Stops it now (idempotent); for a load process, kills it. */
  stop(): Promise<void>;
}

export interface NatsServerHandle extends Running {
  /** nats://127.0.0.1:port */
  readonly url: string;
  /** ws://127.0.0.1:port, when started with websocket: true (nats-server's own listener, no TLS). */
  readonly wsUrl?: string;
}

export interface GatewayHandle extends Running {
  /** http://127.0.0.1:port */
  readonly url: string;
}

/** A load generator running in its own process (a module under bench/load/). */
export interface LoadProcess<Report> extends Running {
  /** Messages the generator sends before its report (e.g. "ready" once its clients are connected). */
  nextMessage(): Promise<unknown>;
  /** Sends a message to the generator (e.g. "go", "stop"). */
  send(message: unknown): void;
  /** send(), then nextMessage(): for generators that answer each command with one message. */
  ask<Reply>(message: unknown): Promise<Reply>;
  /** The generator's final report; rejects if it exits without one. */
  readonly report: Promise<Report>;
}

export interface BenchContext {
  /** `--quick`: small sizes, one repetition, a smoke check that every scenario completes without loss. */
  readonly quick: boolean;
  /** A fresh nats-server on free ports with its own data dir, stopped when the repetition ends. */
  nats(options?: { websocket?: boolean }): Promise<NatsServerHandle>;
  /** A gateway process (the built package, `node bin/streamgate.js serve`) against a nats URL. */
  gateway(natsUrl: string, env?: Record<string, string>): Promise<GatewayHandle>;
  /**
   * Runs a load generator (`module` relative to bench/, e.g. "load/ws-subscribers.ts", written with
   * loadMain from harness/load-main.ts) in its own process, with these arguments (JSON), killed
   * when the repetition ends.
   */
  load<Report>(module: string, args: unknown): Promise<LoadProcess<Report>>;
  /** The same for a server (a ceiling): its first message must be `{ url }`. */
  server(module: string, args: unknown): Promise<LoadProcess<unknown> & { url: string }>;
  /** Logs a progress line to stderr. */
  log(line: string): void;
}

/** One number, measured for several systems in the same repetition. */
export interface Measurement {
  /** e.g. "ws-fanout". */
  scenario: string;
  /** e.g. "deliveries/s", "cpu µs/delivery", "p99 ms", "KB/connection". */
  metric: string;
  higherIsBetter: boolean;
  /** By system: "streamgate", "ceiling", "nats-ws", "raw-consumer", ... */
  values: Record<string, number>;
  /** Events that should have arrived and did not, over all systems: must be 0. */
  lost: number;
  /** Events that arrived more than once, over all systems: must be 0 (left out: none checked). */
  repeated?: number;
  /** The target(s) for streamgate's value; several when it is held to several baselines. */
  target?: Target | Target[];
}

/**
 * streamgate / `baseline` must reach `ratio`, or streamgate's own value must reach `absolute`
 * (≥ when higherIsBetter, ≤ otherwise).
 */
export type Target = { baseline: string; ratio: number } | { absolute: number };

export interface Scenario {
  name: string;
  /** One repetition: every system, one after the other, on fresh processes. */
  run(ctx: BenchContext): Promise<Measurement[]>;
}
