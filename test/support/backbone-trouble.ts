import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { expectError, type HttpResponse } from "./http.js";
import { until } from "./wait.js";

/**
 * Runs fn while the process is stopped with SIGSTOP, and lets it run on (SIGCONT) whatever
 * happens. kill() only queues the signal: fn starts once the kernel reports the process stopped.
 */
export async function whileFrozen<T>(pid: number, fn: () => Promise<T>): Promise<T> {
  process.kill(pid, "SIGSTOP");
  try {
    await until(() => processState(pid) === "T", `nats-server ${pid} to stop`, 5_000, () => `state ${processState(pid)}`);
    return await fn();
  } finally {
    process.kill(pid, "SIGCONT");
  }
}

/** The state letter of /proc/<pid>/stat: R running, S sleeping, T stopped, ... */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.charAt(stat.lastIndexOf(")") + 2);
}

/** PROTOCOL.md section 4: backbone trouble is 503 `unavailable` with a Retry-After in seconds. */
export function expectUnavailable(res: HttpResponse, context: string): void {
  expectError(res, 503, "unavailable", context);
  expect(res.headers.get("retry-after") ?? "", `${context}: Retry-After`).toMatch(/^[1-9]\d*$/);
}

/** The answer is a success, or backbone trouble told the protocol's way; never a 500. */
export function expectOkOrUnavailable(res: HttpResponse, context: string): void {
  if (res.status === 503) expectUnavailable(res, context);
  else expect(res.status, `${context} -> ${res.status} ${res.text.slice(0, 300)}`).toBe(200);
}

/** Collects the promise rejections nobody handled while a test ran. */
export function watchUnhandledRejections(): { rejections: unknown[]; stop(): void } {
  const rejections: unknown[] = [];
  const record = (reason: unknown) => void rejections.push(reason);
  process.on("unhandledRejection", record);
  return { rejections, stop: () => void process.off("unhandledRejection", record) };
}
