import type { GapNotice } from "../../src/protocol/position.js";
import { fromEnvelope, type Delivery, type EnvelopeJson } from "./events.js";
import { ConnectionLostError, getOrLose, readQuery, type ReadSpec } from "./query.js";

/**
 * Server-Sent Events read with fetch and a stream reader rather than EventSource: the same code
 * runs in browsers and Node, and reconnection follows the client's own policy.
 */
export async function* readSse(baseUrl: string, stream: string, spec: ReadSpec, signal: AbortSignal): AsyncGenerator<Delivery> {
  const url = `${baseUrl}/v1/streams/${encodeURIComponent(stream)}/sse?${readQuery(spec)}`;
  const response = await getOrLose(url, "text/event-stream", signal, "SSE", false);
  if (!response) return;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  try {
    for (;;) {
      const chunk = await reader.read().catch((err: unknown) => {
        if (signal.aborted) return { done: true as const, value: undefined };
        throw new ConnectionLostError(`SSE: ${(err as Error).message}`, true);
      });
      if (chunk.done) break;
      buffer += chunk.value;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data.length > 0) {
            const payload = JSON.parse(data.join("\n")) as unknown;
            yield event === "gap"
              ? { kind: "gap", gap: payload as GapNotice }
              : { kind: "event", event: fromEnvelope(payload as EnvelopeJson) };
          }
          event = "";
          data = [];
        } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        else if (line.startsWith("event:")) event = line.slice(6).trim();
      }
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  if (!signal.aborted) throw new ConnectionLostError("SSE: the gateway ended the stream", true);
}
