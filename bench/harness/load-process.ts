/** The runner's side of a load process: a bench module forked through tsx, spoken to over IPC. */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { ChildMessage } from "./load-main.js";
import { Mailbox } from "./mailbox.js";
import { watch } from "./proc.js";
import type { Scope } from "./scope.js";
import { BENCH_DIR, benchNodeOptions, stopChild } from "./spawn.js";
import type { LoadProcess } from "./types.js";

export class LoadProcessFailed extends Error {}

export function forkLoad<Report>(module: string, args: unknown, scope: Scope): LoadProcess<Report> {
  const child: ChildProcess = fork(join(BENCH_DIR, module), [JSON.stringify(args)], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, NODE_OPTIONS: benchNodeOptions() },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const stop = scope.add(() => stopChild(child, "SIGKILL"));
  const inbox = new Mailbox<unknown>();
  let settle!: { resolve(report: Report): void; reject(error: Error): void };
  const report = new Promise<Report>((resolve, reject) => (settle = { resolve, reject }));
  // A scenario that never awaits the report must not turn a crash into an unhandled rejection.
  report.catch(() => undefined);
  child.on("message", (message: ChildMessage) => {
    if (message.kind === "message") inbox.put(message.body);
    else if (message.kind === "report") settle.resolve(message.body as Report);
    else fail(new LoadProcessFailed(`${module} failed: ${message.message}`));
  });
  const fail = (error: Error) => {
    inbox.close(error);
    settle.reject(error);
  };
  child.on("exit", (code, signal) => fail(new LoadProcessFailed(`${module} exited (${signal ?? `code ${code}`}) without a report`)));
  child.on("error", fail);
  if (child.pid === undefined) throw new LoadProcessFailed(`could not fork ${module}`);
  return {
    ...watch(child.pid),
    stop,
    nextMessage: () => inbox.take(),
    send: (message) => child.send(message as object),
    ask: <Reply>(message: unknown) => {
      child.send(message as object);
      return inbox.take() as Promise<Reply>;
    },
    report,
  };
}
