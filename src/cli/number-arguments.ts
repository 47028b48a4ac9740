import { InvalidArgumentError } from "commander";

/** An option's value that must be a whole number (0, 1, 2, …). */
export function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError("not a whole number");
  return Number(text);
}

/** A TCP port, 0 for "a free one". */
export function portNumber(text: string): number {
  const port = wholeNumber(text);
  if (port > 65_535) throw new InvalidArgumentError("not a port (0 to 65535)");
  return port;
}
