import type { Principal } from "../auth/principal.js";
import type { DeliveryMeter } from "../metrics/delivery-metrics.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Limits, Seat } from "./limits.js";
import type { Shutdown } from "./shutdown.js";
import type { Protocol } from "./transport.js";

/** What a protocol does as its credential runs out (PROTOCOL.md section 9.3). */
export interface ExpiryHandlers {
  /** 30 s before: a WebSocket is told, so it can refresh in place. */
  expiring?: (expiresAt: number) => void;
  /** At expiry: the WebSocket gets an error and 1008, SSE an `expired` event and its end. */
  expired: (expiresAt: number) => void;
}

const EXPIRING_NOTICE_MS = 30_000;
/** setTimeout's longest delay; a later expiry is re-armed when it is reached. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One client connection (an SSE response, a long poll, a WebSocket): counted while open (in
 * the metrics, and against the limits of PROTOCOL.md section 9.5), ended when the gateway shuts
 * down, and held to its credential: who it is, and until when. Its signal aborts when it ends,
 * stopping its deliveries.
 */
export class Connection {
  readonly #ended = new AbortController();
  /** Who the connection acts for; undefined until it authenticates (with auth on). */
  #principal: Principal | undefined;
  #timers: NodeJS.Timeout[] = [];
  readonly #uncount: () => void;
  readonly #seat: Seat;
  #unregister: (() => void) | undefined;
  /** Counts and times what is written to the client. */
  readonly meter: DeliveryMeter;

  constructor(
    readonly protocol: Protocol,
    metrics: Metrics,
    shutdown: Shutdown,
    limits: Limits,
    /** What the protocol does when the gateway shuts down (close with 1012, end the response). */
    onShutdown: () => void = () => undefined,
  ) {
    // First, so a connection refused (unavailable: all seats taken) leaves nothing behind.
    this.#seat = limits.seat(protocol);
    this.#uncount = metrics.delivery.open(protocol);
    this.meter = metrics.delivery.meter(protocol);
    // Called at once when the gateway is already shutting down.
    this.#unregister = shutdown.onShutdown(() => {
      this.close();
      onShutdown();
    });
  }

  get signal(): AbortSignal {
    return this.#ended.signal;
  }

  /** Whether the connection ended: the signal's state, read on every write without the signal's own checks. */
  get closed(): boolean {
    return this.#closed;
  }

  #closed = false;

  get principal(): Principal | undefined {
    return this.#principal;
  }

  /**
   * Acts for this principal from now on, until its expiry (a refresh replaces the old one).
   * Refused with rate_limited when the principal's credential holds its limit of connections
   * (or polls); the connection then goes on as it was.
   */
  authenticate(principal: Principal, handlers?: ExpiryHandlers): void {
    this.#seat.hold(principal);
    this.#principal = principal;
    this.#clearTimers();
    const { expiresAt } = principal;
    if (expiresAt === undefined || !handlers) return;
    const at = (ms: number, run: () => void) => {
      const arm = () => {
        const left = ms - Date.now();
        if (left <= 0) return run();
        this.#timers.push(setTimeout(arm, Math.min(left, MAX_TIMER_MS)));
      };
      arm();
    };
    const { expiring, expired } = handlers;
    if (expiring) at(expiresAt * 1000 - EXPIRING_NOTICE_MS, () => expiring(expiresAt));
    at(expiresAt * 1000, () => {
      this.#principal = undefined;
      expired(expiresAt);
    });
  }

  #clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    this.#ended.abort();
    this.#uncount();
    this.#seat.release();
    this.#unregister?.();
  }
}
