/**
 * The generator's side of a load process (see LoadProcess in types.ts). A module under
 * bench/load/ or bench/ceiling/ calls loadMain once:
 *
 *   loadMain<Args, Report>(async (args, parent) => {
 *     ...connect...; parent.send({ ready: true });
 *     for (;;) { const command = await parent.next(); ...; parent.send(answer); }
 *     return report;
 *   });
 *
 * The arguments come as JSON in argv[2]; the report goes back over IPC, then the process exits.
 */

import { Mailbox } from "./mailbox.js";

/** What a load process sends its parent. */
export type ChildMessage = { kind: "message"; body: unknown } | { kind: "report"; body: unknown } | { kind: "error"; message: string };

export interface Parent {
  send(message: unknown): void;
  /** The next message from the runner. */
  next<Message>(): Promise<Message>;
}

export function loadMain<Args, Report>(main: (args: Args, parent: Parent) => Promise<Report>): void {
  const post = (message: ChildMessage): Promise<void> =>
    new Promise((resolve, reject) => process.send!(message, undefined, undefined, (error) => (error ? reject(error) : resolve())));
  if (!process.send) throw new Error("a load module runs as a forked child with an IPC channel");
  const inbox = new Mailbox<unknown>();
  process.on("message", (message) => inbox.put(message));
  const parent: Parent = {
    send: (body) => void post({ kind: "message", body }),
    next: <Message>() => inbox.take() as Promise<Message>,
  };
  // The runner going away (or killing us) must end us: a stray client would skew the next run.
  process.on("disconnect", () => process.exit(1));
  main(JSON.parse(process.argv[2] ?? "null") as Args, parent).then(
    (report) => post({ kind: "report", body: report }).then(() => process.exit(0)),
    (error: unknown) => {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      void post({ kind: "error", message }).finally(() => process.exit(1));
    },
  );
}
