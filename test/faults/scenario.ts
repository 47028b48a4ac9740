/**
 * One fault under load: the workload starts, runs a while, the fault is injected and undone,
 * the load runs on a while, then everything is drained and checked, and the table printed.
 */
import { sleep } from "../support/wait.js";
import { check, type CheckResult } from "./checker.js";
import { DURATIONS } from "./mode.js";
import { report, type Measurements } from "./report.js";
import { Workload, type Topology } from "./workload.js";

export interface FaultRun {
  result: CheckResult;
  measurements: Measurements;
  workload: Workload;
}

/**
 * `inject` breaks something and resolves once it is put back (a node restarted, a partition
 * healed), with what it measured; the fault's window is the time it took. It puts back what it
 * broke even when it fails (the next fault runs on the same topology).
 */
export async function runFault(
  suite: string,
  topology: Topology,
  name: string,
  inject: (workload: Workload) => Promise<Measurements>,
): Promise<FaultRun> {
  const workload = await Workload.start(topology, name.replace(/[^A-Za-z0-9]+/g, "-"));
  try {
    await sleep(DURATIONS.warmUpMs);
    const from = Date.now();
    // A fault that went wrong is still checked and its table printed, then it fails the test.
    let failure: { error: unknown } | undefined;
    const measured = await inject(workload).catch((error: unknown): Measurements => {
      failure = { error };
      return { "the fault failed": String(error).slice(0, 300) };
    });
    const to = Date.now();
    await sleep(DURATIONS.coolDownMs);
    const { drainedInMs, drained } = await workload.stopAndDrain();
    const result = check(await workload.finish({ name, from, to }));
    const measurements: Measurements = { ...measured, "drained in s": drained ? (drainedInMs / 1000).toFixed(1) : `not within ${DURATIONS.drainMs / 1000}` };
    report(suite, result, measurements);
    if (failure) throw failure.error;
    return { result, measurements, workload };
  } finally {
    await workload.close();
  }
}
