/** CPU and memory of a process, read from Linux's /proc (the bench runs on Linux only). */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { Watched } from "./types.js";

// utime and stime are in clock ticks; `getconf` asks the kernel rather than assuming 100.
const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime), counted from 1 over the whole line; fields[0] is field 3.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export async function rssBytesOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

export function watch(pid: number): Watched {
  return { pid, cpuSeconds: () => cpuSecondsOf(pid), rssBytes: () => rssBytesOf(pid) };
}
