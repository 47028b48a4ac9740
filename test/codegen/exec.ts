import { execFile, type ExecFileOptions } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/codegen/exec.ts). */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface RunResult {
  /** The exit status; a command that cannot be started rejects instead. */
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion; a non-zero exit is a result, not an error. */
export function run(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024, ...options, encoding: "utf8" }, (error, stdout, stderr) => {
      const ms = Math.round(performance.now() - started);
      if (error && typeof error.code !== "number") {
        reject(new Error(`${file} ${args.join(" ")} did not run: ${error.message}`));
        return;
      }
      resolve({ code: error ? (error.code as number) : 0, stdout: String(stdout), stderr: String(stderr), ms });
    });
  });
}
