import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

/** Readable lines for a person at a terminal; one JSON object a line for whatever collects logs. */
export function createLogger(level: string, out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): Logger {
  return out.isTTY ? pino({ level }, pretty({ destination: out, sync: true })) : pino({ level }, out);
}
