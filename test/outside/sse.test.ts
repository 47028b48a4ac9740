// PROTOCOL.md section 5.1: Server-Sent Events, byte by byte.
import { describe, expect, it } from "vitest";
import {
  field,
  nextData,
  openSse,
  publish,
  publishShipped,
  shipped,
  streamInfo,
  uniqueKey,
  type SseBlock,
  useStack,
} from "./support.js";

const RETRY_MS = 1500;
const KEEPALIVE_MS = 300;
const stack = useStack({ STREAMGATE_SSE_RETRY_MS: String(RETRY_MS), STREAMGATE_SSE_KEEPALIVE_MS: String(KEEPALIVE_MS) });
const sseUrl = (query: string) => `${stack().base}/v1/streams/orders/sse?${query}`;

function expectEventBlock(block: SseBlock, offset: number): void {
  expect(block.fields.map(([name]) => name)).toEqual(["id", "data"]);
  expect(field(block, "id")).toBe(String(offset));
  expect(JSON.parse(field(block, "data")!)).toMatchObject({ stream: "orders", offset });
}

describe("Server-Sent Events (section 5.1)", () => {
  it("answers with the SSE headers, a retry line first, then id = offset and one data line per event", async () => {
    const key = uniqueKey("sse");
    const offsets = await publishShipped(stack().base, key, 2);
    const sse = await openSse(sseUrl(`from=${offsets[0]}&key=${key}`));
    expect(sse.status).toBe(200);
    expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(sse.headers.get("cache-control")).toMatch(/(^|,\s*)no-cache(,|$)/);
    expect(sse.headers.get("x-accel-buffering")).toBe("no");

    const events = [await nextData(sse, "first event"), await nextData(sse, "second event")];
    expect(sse.lines[0]).toBe(`retry: ${RETRY_MS}`);
    events.forEach((block, n) => expectEventBlock(block, offsets[n]!));
    expect(JSON.parse(field(events[1]!, "data")!)).toMatchObject({
      type: "demo.orders.v1.OrderShipped",
      key,
      data: { orderId: key, carrier: "dhl", trackingNumber: "t-1" },
    });
    const [live] = await publishShipped(stack().base, key, 1);
    expectEventBlock(await nextData(sse, "live event"), live!);
    sse.close();
  });

  it("a gap notice is `event: gap` without id, then events go on from the oldest retained", async () => {
    await publishShipped(stack().base, uniqueKey("gap"), 1);
    const info = await streamInfo(stack().base, "orders");
    const sse = await openSse(sseUrl(`from=${info.last_offset}&epoch=stale-epoch`));
    const gap = await nextData(sse, "gap notice");
    expect(gap.fields.map(([name]) => name)).toEqual(["event", "data"]);
    expect(field(gap, "event")).toBe("gap");
    expect(JSON.parse(field(gap, "data")!)).toEqual({
      stream: "orders",
      requested: info.last_offset,
      first: info.first_offset,
      epoch: info.epoch,
    });
    expectEventBlock(await nextData(sse, "oldest event"), info.first_offset);
    sse.close();
  });

  it("Last-Event-ID (header or lastEventId=) resumes right after that offset, over the position", async () => {
    const key = uniqueKey("resume");
    const offsets = await publishShipped(stack().base, key, 3);
    const viaHeader = await openSse(sseUrl(`from=now&key=${key}`), { "last-event-id": String(offsets[0]) });
    expectEventBlock(await nextData(viaHeader, "after header"), offsets[1]!);
    expectEventBlock(await nextData(viaHeader, "then"), offsets[2]!);
    viaHeader.close();

    const viaQuery = await openSse(sseUrl(`last=1&key=${key}&lastEventId=${offsets[1]}`));
    expectEventBlock(await nextData(viaQuery, "after query"), offsets[2]!);
    const [live] = await publishShipped(stack().base, key, 1);
    expectEventBlock(await nextData(viaQuery, "live"), live!);
    viaQuery.close();

    const bad = await openSse(sseUrl("lastEventId=abc"));
    expect(bad.status).toBe(400);
    bad.close();
  });

  it("an idle stream gets `: keep-alive` comments at the configured interval", async () => {
    const sse = await openSse(sseUrl(`key=${uniqueKey("idle")}`));
    const taken = await sse.blocks.takeUntil(
      (block) => block.comments.length > 0,
      "keep-alive comment",
      KEEPALIVE_MS * 20,
    );
    const comment = taken[taken.length - 1]!;
    expect(comment.lines).toEqual([": keep-alive"]);
    await sse.blocks.takeUntil((block) => block.comments.length > 0, "second keep-alive", KEEPALIVE_MS * 20);
    expect(taken.filter((block) => field(block, "data") !== undefined)).toEqual([]);
    sse.close();
  });
});
