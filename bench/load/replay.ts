/**
 * What every catch-up reader shares: it reads offsets 1..events of the orders stream, each
 * checked, from "go" until all arrived or nothing arrived for STALL_MS; its report is the tally
 * and the seconds from "go" to the last offset.
 */
import { OffsetCheck, type OffsetTally } from "./offset-check.js";
import { loadArgs, readyThenGo, reportToRunner } from "./runner-ipc.js";

const STALL_MS = 30_000;

export interface ReplayArgs {
  /** The gateway's http:// URL, or the nats:// URL for the raw consumer. */
  url: string;
  events: number;
}

export interface ReplayReport extends OffsetTally {
  seconds: number;
  /** Why the reader stopped short, if it did. */
  stopped?: string;
}

/** Reads until `check.complete` or the signal aborts; throws on anything the protocol should never send here. */
export type Reader = (args: ReplayArgs, check: OffsetCheck, signal: AbortSignal) => Promise<void>;

export async function replay(read: Reader): Promise<void> {
  const args = loadArgs<ReplayArgs>();
  const check = new OffsetCheck(args.events);
  await readyThenGo();
  const started = performance.now();
  check.lastAt = started;
  const stall = new AbortController();
  const watchdog = setInterval(() => {
    if (performance.now() - check.lastAt > STALL_MS) stall.abort(new Error(`nothing arrived for ${STALL_MS / 1000} s`));
  }, 1_000);
  let stopped: string | undefined;
  try {
    await read(args, check, stall.signal);
  } catch (err) {
    stopped = String(err);
  } finally {
    clearInterval(watchdog);
  }
  if (!stopped && !check.complete) stopped = String(stall.signal.reason ?? "the reader ended early");
  const report: ReplayReport = { ...check.tally(), seconds: (check.lastAt - started) / 1000, ...(stopped ? { stopped } : {}) };
  await reportToRunner(report);
}
