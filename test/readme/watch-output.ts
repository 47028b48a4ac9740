/**
 * Waiting for a README command or program, and judging it: with the output the README shows,
 * until it printed that (a stream, which never ends by itself, is then stopped) or ended; with
 * none, until it ended, which it must by itself. It must not fail, nor get a gateway error
 * answer the README does not show.
 */
import { sleep } from "../support/wait.js";
import { compareOutput, parsedObject } from "./expected-output.js";
import type { Group } from "./processes.js";
import { ReadmeFailure } from "./readme-blocks.js";

/** Resolves with what it printed on stdout; throws ReadmeFailure, saying what it printed and what the README shows. */
export async function watchOutput(group: Group, wanted: string[] | undefined, what: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const sofar = () => (wanted === undefined ? "so far" : compareOutput(wanted, group.stdout(), false));
  while (!group.ended() && sofar() === "so far" && Date.now() < deadline) await sleep(20);
  const running = group.ended() ? undefined : sofar();
  if (running !== undefined) await group.stop(5_000);
  const exit = await group.exited;
  const stdout = group.stdout();
  const fail = (how: string) =>
    new ReadmeFailure(`${what} ${how}\n--- printed\n${stdout}\n--- stderr\n${group.stderr()}${wanted ? `\n--- README shows\n${wanted.join("\n")}` : ""}`);
  if (running === "same") return stdout; // a stream, stopped once it printed what the README shows
  if (running === "different") throw fail("printed something else than the README shows");
  if (running === "so far") throw fail(`did not ${wanted ? "print what the README shows" : "end"} within ${timeoutMs} ms`);
  if (exit.code !== 0) throw fail(`exited ${exit.code ?? exit.signal}`);
  if (wanted && compareOutput(wanted, stdout, true) !== "same") throw fail("printed something else than the README shows");
  if (!wanted && isErrorAnswer(stdout)) throw fail("got an error answer");
  return stdout;
}

/** The gateway's error answer, {"error":{"code",...}}. */
function isErrorAnswer(stdout: string): boolean {
  const error = parsedObject(stdout.trim())?.error;
  return typeof error === "object" && error !== null;
}
