import { SseParser, sseItem } from "@streamgate/protocol/sse";
import type { Delivery } from "./events.js";
import { ConnectionLostError, CredentialExpiredError, getOrLose, readUrl, type HttpRead } from "./query.js";

/**
 * Server-Sent Events read with fetch and a stream reader rather than EventSource: the same code
 * runs in browsers and Node, and reconnection follows the client's own policy.
 */
export async function* readSse(read: HttpRead): AsyncGenerator<Delivery> {
  const { signal, headers } = read;
  const url = readUrl(read, "sse", read.spec);
  const response = await getOrLose(url, { accept: "text/event-stream", headers, signal, what: "SSE", everConnected: false });
  if (!response) return;
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  try {
    for (;;) {
      const chunk = await reader.read().catch((err: unknown) => {
        if (signal.aborted) return { done: true as const, value: undefined };
        throw new ConnectionLostError(`SSE: ${(err as Error).message}`, true);
      });
      if (chunk.done) break;
      for (const message of parser.push(chunk.value)) {
        const item = sseItem(message);
        if (item.kind !== "other") yield item;
        // PROTOCOL.md 9.3: the response ends after it, and a fresh credential resumes the read.
        else if (item.message.event === "expired") throw new CredentialExpiredError("SSE: the credential expired");
      }
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  if (!signal.aborted) throw new ConnectionLostError("SSE: the gateway ended the stream", true);
}
