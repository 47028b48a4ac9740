/** The handshake of the throughput generators: "ready" once connected, then nothing until "go". */
import type { Parent } from "../harness/load-main.js";

export async function readyThenGo(parent: Parent): Promise<void> {
  parent.send("ready");
  const go = await parent.next();
  if (go !== "go") throw new Error(`expected "go", got ${JSON.stringify(go)}`);
}
