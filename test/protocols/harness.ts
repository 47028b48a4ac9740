/**
 * Black-box helpers for the SSE and poll protocol suites (PROTOCOL.md sections 2, 3, 5.1, 5.2):
 * query strings, publishing fixtures through the typed producer, and one reader per protocol
 * that returns what a client saw (gap notices and events, in order).
 */
import { expect } from "vitest";
import { orders, type OrdersEventInit } from "../../generated/streams/index.js";
import { createProducer } from "../../src/typed/producer.js";
import { range, T, tag } from "../support/events.js";
import type { TestGateway } from "../support/gateway.js";
import { send, type HttpResponse } from "../support/http.js";
import type { Envelope, GapNoticeJson, ReadItem } from "../support/envelope.js";
import { SseConnection } from "../support/sse-frames.js";

export type { Envelope, GapNoticeJson, ReadItem };

export type Query = Record<string, string | number | readonly string[] | undefined>;

/** Builds a query string; arrays are joined with ",", every value is percent-encoded. */
export function qs(query: Query): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(",") : String(value);
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  }
  return parts.join("&");
}

export interface StreamInfoJson {
  name: string;
  first_offset: number;
  last_offset: number;
  events: number;
  epoch: string;
}

export async function streamInfo(gw: TestGateway, stream = "orders"): Promise<StreamInfoJson> {
  const res = await fetch(`${gw.url}/v1/streams/${stream}`);
  expect(res.status).toBe(200);
  return (await res.json()) as StreamInfoJson;
}

export type OrderSpec = OrdersEventInit & { id?: string; key?: string };

/** Publishes events one after the other through the typed producer; returns their offsets. */
export async function publish(gw: TestGateway, events: readonly OrderSpec[]): Promise<number[]> {
  const producer = createProducer(gw.gateway.session.backbone.js, orders);
  const offsets: number[] = [];
  for (const { id, key, ...event } of events) {
    const options = { ...(id !== undefined && { id }), ...(key !== undefined && { key }) };
    offsets.push((await producer.publish(event as OrdersEventInit, options)).offset);
  }
  return offsets;
}

/** `count` OrderShipped events with keys `${prefix}-0`... published one after the other. */
export async function publishShipped(gw: TestGateway, count: number, prefix = tag("s")): Promise<number[]> {
  const offsets = await publish(
    gw,
    Array.from({ length: count }, (_, i) => ({ type: T.shipped, data: { orderId: `${prefix}-${i}`, carrier: "dhl" } })),
  );
  // Nothing else publishes to a suite's own gateway meanwhile: a batch is contiguous.
  expect(offsets).toEqual(range(offsets[0]!, count));
  return offsets;
}

export const eventsOf = (items: readonly ReadItem[]) =>
  items.filter((i): i is Extract<ReadItem, { kind: "event" }> => i.kind === "event").map((i) => i.event);
export const offsetsOf = (items: readonly ReadItem[]) => eventsOf(items).map((e) => e.offset);
/** The read as a compact list: offsets as numbers, gap notices as "gap". */
export const shapeOf = (items: readonly ReadItem[]) => items.map((i) => (i.kind === "gap" ? "gap" : i.event.offset));

// ---------------------------------------------------------------------------------------------
// Long / short polling

export interface PollBody {
  events: Envelope[];
  next: number;
  first_offset: number;
  last_offset: number;
  gap?: GapNoticeJson;
}

/** A poll's answer, read whole (see send): JSON or protobuf, error or not. */
export function pollRaw(gw: TestGateway, stream: string, query: Query, headers: Record<string, string> = {}, timeoutMs = 75_000): Promise<HttpResponse> {
  return send(gw.url, { path: `/v1/streams/${stream}/poll?${qs(query)}`, headers }, timeoutMs);
}

/** One JSON poll that must answer 200 with the protocol's body shape. */
export type PollAnswer = Omit<HttpResponse, "body"> & { body: PollBody };

export async function poll(gw: TestGateway, query: Query, stream = "orders"): Promise<PollAnswer> {
  const res = await pollRaw(gw, stream, query);
  expect(res.status, `GET /poll?${qs(query)} -> ${res.status} ${res.text.slice(0, 400)}`).toBe(200);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = res.body as PollBody;
  expect(Array.isArray(body.events), `events must be an array: ${res.text.slice(0, 200)}`).toBe(true);
  for (const field of ["next", "first_offset", "last_offset"] as const) {
    expect(Number.isSafeInteger(body[field]), `${field} must be an integer: ${res.text.slice(0, 200)}`).toBe(true);
  }
  return res as PollAnswer;
}

export interface ReadOptions {
  stream?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Reads like a polling client: the first poll with `position` and `filter`, then `from=next`
 * with the same filter, until `count` events have come; then one more short poll must bring
 * nothing. Returns the gap notices and events in order, and every answer.
 */
export async function readPoll(
  gw: TestGateway,
  position: Query,
  filter: Query,
  count: number,
  options: ReadOptions = {},
): Promise<{ items: ReadItem[]; answers: PollBody[] }> {
  const stream = options.stream ?? "orders";
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const items: ReadItem[] = [];
  const answers: PollBody[] = [];
  let query: Query = { ...position, ...filter, wait: 5 };
  let events = 0;
  while (events < count) {
    if (Date.now() > deadline) throw new Error(`poll read timed out with ${events} of ${count} events: ${JSON.stringify(shapeOf(items))}`);
    const { body } = await poll(gw, query, stream);
    answers.push(body);
    if (body.gap !== undefined) items.push({ kind: "gap", gap: body.gap });
    for (const event of body.events) items.push({ kind: "event", event });
    events += body.events.length;
    query = { from: body.next, ...filter, wait: 5 };
  }
  const { body: rest } = await poll(gw, { ...query, wait: 0 }, stream);
  answers.push(rest);
  if (rest.gap !== undefined) items.push({ kind: "gap", gap: rest.gap });
  for (const event of rest.events) items.push({ kind: "event", event });
  return { items, answers };
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

export function ssePath(query: Query, stream = "orders"): string {
  const q = qs(query);
  return `/v1/streams/${stream}/sse${q ? `?${q}` : ""}`;
}

export function sseUrl(gw: TestGateway, query: Query, stream = "orders"): string {
  return gw.url + ssePath(query, stream);
}

/** Opens an SSE read that must answer 200; close it in a finally. */
export async function openSse(gw: TestGateway, query: Query, options: ReadOptions = {}): Promise<SseConnection> {
  const sse = await SseConnection.open(sseUrl(gw, query, options.stream), { ...(options.headers && { headers: options.headers }) });
  if (sse.status !== 200) {
    const text = await sse.response.text().catch(() => "");
    throw new Error(`GET /sse?${qs(query)} -> ${sse.status} ${text.slice(0, 400)}`);
  }
  return sse;
}

/**
 * Reads an SSE stream until `count` events have come, then for `quietMs` more (anything else
 * arriving is returned too, so an exact comparison catches extra events and notices).
 */
export async function readSse(
  gw: TestGateway,
  position: Query,
  filter: Query,
  count: number,
  options: ReadOptions & { quietMs?: number } = {},
): Promise<{ items: ReadItem[]; sse: SseConnection }> {
  const sse = await openSse(gw, { ...position, ...filter }, options);
  try {
    await sse.waitForEvents(count, options.timeoutMs ?? 15_000);
    await sse.quiet(options.quietMs ?? 250);
    return { items: sse.readItems(), sse };
  } finally {
    await sse.close();
  }
}

export type Protocol = "sse" | "poll";
export const PROTOCOLS: readonly Protocol[] = ["sse", "poll"];

/** Reads `count` events from a position on either protocol; see readSse and readPoll. */
export async function read(
  protocol: Protocol,
  gw: TestGateway,
  position: Query,
  filter: Query,
  count: number,
  options: ReadOptions = {},
): Promise<ReadItem[]> {
  if (protocol === "sse") return (await readSse(gw, position, filter, count, options)).items;
  return (await readPoll(gw, position, filter, count, options)).items;
}
