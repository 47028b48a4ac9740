/** How the scenarios name their load generators and drive them through the common handshake. */
import { fileURLToPath } from "node:url";
import type { LoadProcess } from "../harness/types.js";

/** The absolute path of bench/load/<name>.ts, as ctx.load and ctx.server take it. */
export const loadModule = (name: string): string => fileURLToPath(new URL(`../load/${name}.ts`, import.meta.url));

/** Waits for the generator's "ready", tells it "go" and answers its report. */
export async function goAndReport<Report>(load: LoadProcess<Report>): Promise<Report> {
  await ready(load);
  load.send("go");
  return load.report;
}

export async function ready(load: LoadProcess<unknown>): Promise<void> {
  const first = await Promise.race([load.nextMessage(), load.report.then((report) => ({ reportedInstead: report }))]);
  if (first !== "ready") throw new Error(`load generator ${load.pid} said ${JSON.stringify(first)} instead of "ready"`);
}
