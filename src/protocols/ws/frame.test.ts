/**
 * serverFrame against a real WebSocket client (the `ws` package's parser): every payload-length
 * encoding of RFC 6455 section 5.2 (7-bit, 16-bit, 64-bit), text and binary, arrives whole.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { serverFrame } from "./frame.js";

const LENGTHS = [0, 1, 125, 126, 65_535, 65_536, 200_000];
const payloads: (string | Uint8Array)[] = LENGTHS.flatMap((n) => ["é".repeat(Math.floor(n / 2)) + "x".repeat(n % 2), Uint8Array.from({ length: n }, (_, i) => i % 251)]);

let server: Server;
beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server = createServer();
  server.on("upgrade", (request, socket, head) =>
    wss.handleUpgrade(request, socket, head, () => {
      for (const payload of payloads) socket.write(serverFrame(payload));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it("every length encoding, text and binary, reaches a ws client as the payload written", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const received: { data: Buffer; isBinary: boolean }[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data: Buffer, isBinary) => {
      received.push({ data, isBinary });
      if (received.length === payloads.length) resolve();
    });
    ws.on("error", reject);
    ws.on("close", (code) => reject(new Error(`closed with ${code} after ${received.length} frames`)));
  });
  ws.terminate();
  expect(received.map((r) => r.isBinary)).toEqual(payloads.map((p) => typeof p !== "string"));
  received.forEach(({ data }, i) => {
    const payload = payloads[i]!;
    expect(typeof payload === "string" ? data.toString("utf8") : new Uint8Array(data)).toEqual(payload);
  });
});
