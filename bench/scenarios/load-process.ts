/** How the scenarios name their load modules and drive them through the "ready"/"go" handshake. */
import type { LoadProcess } from "../harness/types.js";

/** bench/load/<name>.ts, as ctx.load takes it. */
export const loadModule = (name: string): string => `load/${name}.ts`;

/** Waits for the generator's "ready". */
export async function ready(load: LoadProcess<unknown>): Promise<void> {
  const first = await load.nextMessage();
  if (first !== "ready") throw new Error(`load process ${load.pid} said ${JSON.stringify(first)} instead of "ready"`);
}

/** Tells a ready generator "go" and answers its report. */
export function go<Report>(load: LoadProcess<Report>): Promise<Report> {
  load.send("go");
  return load.report;
}

export async function goAndReport<Report>(load: LoadProcess<Report>): Promise<Report> {
  await ready(load);
  return go(load);
}
