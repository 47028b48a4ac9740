/**
 * The load generator's side of its IPC channel with the bench runner (ctx.load / ctx.server):
 * its arguments are JSON in argv[2]; what it sends before its report is `{ kind: "message" }`,
 * the report `{ kind: "report" }`; the runner's messages arrive as they were sent.
 */

export type ToRunner = { kind: "message"; message: unknown } | { kind: "report"; report: unknown };

export function loadArgs<Args>(): Args {
  const json = process.argv[2];
  if (json === undefined) throw new Error("a load generator takes its arguments as JSON in argv[2]");
  return JSON.parse(json) as Args;
}

function toRunner(message: ToRunner): Promise<void> {
  if (!process.send) throw new Error("a load generator runs with an IPC channel (forked by the bench runner)");
  const send = process.send.bind(process);
  return new Promise((resolve, reject) => send(message, undefined, undefined, (err) => (err ? reject(err) : resolve())));
}

export const tellRunner = (message: unknown): Promise<void> => toRunner({ kind: "message", message });

/** Sends the report; a load generator then lets go of the channel and ends once its work is closed. */
export async function reportToRunner(report: unknown, options: { keepRunning?: boolean } = {}): Promise<void> {
  await toRunner({ kind: "report", report });
  if (!options.keepRunning) process.disconnect();
}

/** The runner's next message that satisfies `is`. */
export function fromRunner<M>(is: (message: unknown) => message is M): Promise<M> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!is(message)) return;
      process.off("message", onMessage);
      resolve(message);
    };
    process.on("message", onMessage);
  });
}

/** The common handshake: tell the runner "ready", wait for its "go". */
export async function readyThenGo(): Promise<void> {
  const go = fromRunner((m): m is "go" => m === "go");
  await tellRunner("ready");
  await go;
}
