import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.js";

/** A stream that says whether it is a terminal, and keeps what was written to it. */
function output(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
  return { stream, text: () => text };
}

async function logged(isTTY: boolean): Promise<string> {
  const out = output(isTTY);
  createLogger("info", out.stream).info({ stream: "orders" }, "stream provisioned");
  await new Promise((resolve) => setImmediate(resolve));
  return out.text();
}

describe("createLogger", () => {
  it("writes one JSON object a line when the output is not a terminal", async () => {
    const lines = (await logged(false)).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: "stream provisioned", stream: "orders" });
  });

  it("writes readable lines to a terminal", async () => {
    const text = await logged(true);
    expect(text).toMatch(/INFO.*stream provisioned/);
    expect(text).toMatch(/stream: "orders"/);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });
});
