/** What the numbers were measured on. */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  natsServer: string;
  openFilesLimit: string;
  /** 1-, 5- and 15-minute load averages when the run began: these machines are shared. */
  loadAverage: number[];
}

export function describeMachine(): Machine {
  const run = (command: string, args: string[]) => {
    try {
      return execFileSync(command, args, { encoding: "utf8", env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } }).trim();
    } catch (error) {
      return `unknown (${error instanceof Error ? error.message : String(error)})`;
    }
  };
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    natsServer: run("nats-server", ["--version"]),
    openFilesLimit: run("sh", ["-c", "ulimit -n"]),
    loadAverage: loadavg().map((load) => Math.round(load * 10) / 10),
  };
}
