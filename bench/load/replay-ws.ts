/** Load module: catch-up over one WebSocket (JSON subprotocol), subscribed from offset 1. */
import WebSocket from "ws";
import { STREAM } from "./order-event.js";
import { replay } from "./replay.js";

interface Frame {
  op: string;
  event?: { offset: number };
}

replay((url, tally, signal) => {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/streams/${STREAM}/ws?from=1`, "streamgate.v1.json");
  return new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      reject(err);
      ws.terminate();
    };
    signal.addEventListener("abort", () => fail(signal.reason as Error), { once: true });
    ws.on("error", fail);
    ws.on("close", (code) => (tally.done ? resolve() : fail(new Error(`the socket closed (${code}) before the last event`))));
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.op === "event") {
        tally.see(frame.event!.offset);
        if (tally.done) ws.close();
      } else if (frame.op !== "subscribed") fail(new Error(`unexpected frame ${String(data).slice(0, 300)}`));
    });
  });
});
