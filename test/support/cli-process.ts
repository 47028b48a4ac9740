/**
 * The streamgate CLI run as a user runs it (`node --import tsx src/cli/main.ts ...`, a child process),
 * watched while it runs: until() re-checks on every chunk of output and on exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Observed } from "./observed.js";

/** Variables the client commands read: the test's own environment must not leak into them. */
const CLIENT_VARIABLES = ["STREAMGATE_URL", "STREAMGATE_TOKEN", "STREAMGATE_API_KEY"];

export interface CliResult {
  /** The exit code; null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CliProcess extends Observed {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<CliResult>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string) {
    super();
    const base = { ...process.env };
    for (const name of CLIENT_VARIABLES) delete base[name];
    // tsx as a loader in the CLI's own process rather than through npx: the exit code seen is
    // the CLI's (npm dies of a Ctrl-C itself), and each run starts seconds sooner. A process
    // group of its own, so that interrupt() is a Ctrl-C.
    this.child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { env: { ...base, ...env }, stdio: "pipe", detached: true });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
      this.changed();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
      this.changed();
    });
    this.child.stdin!.end(input);
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("close", (code) => {
        this.ended = true;
        this.changed();
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Ctrl-C: SIGINT to the process group, as a terminal sends it. */
  interrupt(): void {
    process.kill(-this.child.pid!, "SIGINT");
  }

  /** Ends whatever is left of it (a test that failed half-way). */
  async kill(): Promise<void> {
    if (this.ended) return;
    try {
      process.kill(-this.child.pid!, "SIGKILL");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
    await this.exited;
  }

  /** The JSON values of stdout's complete lines. */
  jsonLines(): unknown[] {
    return jsonLines(this.stdout);
  }

  protected describe(): string {
    return `stdout ${JSON.stringify(this.stdout.slice(-2000))}, stderr ${JSON.stringify(this.stderr.slice(-2000))}`;
  }
}

/** Runs the CLI to its end. */
export function cli(args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new CliProcess(args, env, input).exited;
}

export function jsonLines(text: string): unknown[] {
  return text
    .split("\n")
    .slice(0, -1)
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as unknown);
}
