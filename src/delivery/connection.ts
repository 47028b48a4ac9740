import type { Principal } from "../auth/principal.js";
import type { DeliveryMeter } from "../metrics/delivery-metrics.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Limits, Seat } from "./limits.js";
import { withItem, withoutItem } from "./exact-arrays.js";
import type { Ending, Shutdown } from "./shutdown.js";
import type { Protocol } from "./transport.js";

/** What a protocol does as its credential runs out (PROTOCOL.md section 9.3); called as methods. */
export interface ExpiryHandlers {
  /** 30 s before: a WebSocket is told, so it can refresh in place. */
  expiring?: (expiresAt: number) => void;
  /** At expiry: the WebSocket gets an error and 1008, SSE an `expired` event and its end. */
  expired: (expiresAt: number) => void;
}

const EXPIRING_NOTICE_MS = 30_000;
/** setTimeout's longest delay; a later expiry is re-armed when it is reached. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a connection stops when it ends: its deliveries. */
export interface Stoppable {
  close(): void;
}

/**
 * One client connection (an SSE response, a long poll, a WebSocket): counted while open (in
 * the metrics, and against the limits of PROTOCOL.md section 9.5), ended when the gateway shuts
 * down, and held to its credential: who it is, and until when. When it ends, its deliveries stop.
 *
 * Every idle connection holds one, so it holds fields, not closures: no listener on its own
 * signal, no abort controller until something waits on it.
 */
export class Connection implements Ending {
  /** Made when something first asks for the signal (a wait for drain): an idle connection never does. */
  #ended: AbortController | undefined;
  /** Who the connection acts for; undefined until it authenticates (with auth on). */
  #principal: Principal | undefined;
  /** The credential's expiry timers, while it has one. */
  #timers: NodeJS.Timeout[] | undefined;
  readonly #seat: Seat;
  /** An array, not a set: most connections have one delivery, and a set's table costs more than all of it. */
  #deliveries: Stoppable[] | undefined;
  /** Counts and times what is written to the client. */
  readonly meter: DeliveryMeter;

  constructor(
    readonly protocol: Protocol,
    metrics: Metrics,
    private readonly shutdown: Shutdown,
    limits: Limits,
  ) {
    // First, so a connection refused (unavailable: all seats taken) leaves nothing behind.
    this.#seat = limits.seat(protocol);
    this.meter = metrics.delivery.meter(protocol);
    this.meter.open++;
    // Shut down at once when the gateway already is shutting down.
    shutdown.add(this);
  }

  /** Aborts when the connection ends. */
  get signal(): AbortSignal {
    if (!this.#ended) {
      this.#ended = new AbortController();
      if (this.#closed) this.#ended.abort();
    }
    return this.#ended.signal;
  }

  /** Whether the connection ended: read on every write, so a plain field. */
  get closed(): boolean {
    return this.#closed;
  }

  #closed = false;

  get principal(): Principal | undefined {
    return this.#principal;
  }

  /** Stops `delivery` when the connection ends (at once if it has); `forget` it once it stopped on its own. */
  stops(delivery: Stoppable): void {
    if (this.#closed) return delivery.close();
    this.#deliveries = withItem(this.#deliveries, delivery);
  }

  forget(delivery: Stoppable): void {
    if (this.#deliveries?.includes(delivery)) this.#deliveries = withoutItem(this.#deliveries, delivery);
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
    const timers: NodeJS.Timeout[] = (this.#timers = []);
    const at = (ms: number, run: () => void) => {
      const arm = () => {
        const left = ms - Date.now();
        if (left <= 0) return run();
        timers.push(setTimeout(arm, Math.min(left, MAX_TIMER_MS)));
      };
      arm();
    };
    if (handlers.expiring) at(expiresAt * 1000 - EXPIRING_NOTICE_MS, () => handlers.expiring?.(expiresAt));
    at(expiresAt * 1000, () => {
      this.#principal = undefined;
      handlers.expired(expiresAt);
    });
  }

  #clearTimers(): void {
    for (const timer of this.#timers ?? []) clearTimeout(timer);
    this.#timers = undefined;
  }

  /** The gateway shuts down: a protocol that must tell its client (a WebSocket closes with 1012) does more. */
  shutDown(): void {
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    const deliveries = this.#deliveries;
    this.#deliveries = undefined;
    for (const delivery of deliveries ?? []) delivery.close();
    this.#ended?.abort();
    this.meter.open--;
    this.#seat.release();
    this.shutdown.remove(this);
  }
}
