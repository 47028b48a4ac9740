/**
 * Helpers for the webhook suites (PROTOCOL.md section 6): publishing through the HTTP API,
 * reading an event's envelope back, registering webhooks and cleaning them up, and checking
 * Standard Webhooks signatures independently of the library.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { expect } from "vitest";
import { tag, T } from "./events.js";
import type { Client, HttpResponse } from "./http.js";

export interface Published {
  offset: number;
  id: string;
}

export interface EventSpec {
  type: string;
  data: Record<string, unknown>;
  id?: string;
}

export const shipped = (orderId: string, id?: string): EventSpec => ({
  type: T.shipped,
  data: { orderId, carrier: "dhl", trackingNumber: `tr-${orderId}` },
  ...(id !== undefined && { id }),
});

/** Publishes one event after the other to `stream` through POST /v1/streams/{stream}/events. */
export async function publish(api: Client, events: readonly EventSpec[], stream = "orders"): Promise<Published[]> {
  const out: Published[] = [];
  for (const event of events) {
    const res = await api.postJson(`/v1/streams/${stream}/events`, event);
    expect(res.status, res.text).toBe(201);
    out.push({ offset: res.body.offset, id: res.body.id });
  }
  return out;
}

/** `count` OrderShipped events with fresh order ids. */
export async function publishShipped(api: Client, count: number, prefix = tag("o")): Promise<Published[]> {
  return publish(
    api,
    Array.from({ length: count }, (_, i) => shipped(`${prefix}-${i}`)),
  );
}

/** The envelope of the event at `offset`, as a short poll returns it. */
export async function envelopeAt(api: Client, offset: number, stream = "orders"): Promise<any> {
  const res = await api.get(`/v1/streams/${stream}/poll?from=${offset}&max=1&wait=0`);
  expect(res.status, res.text).toBe(200);
  expect(res.body.events[0]?.offset, res.text).toBe(offset);
  return res.body.events[0];
}

export async function streamInfo(api: Client, stream = "orders"): Promise<{ first_offset: number; last_offset: number }> {
  const res = await api.get(`/v1/streams/${stream}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Registers webhooks and deletes them again at the end of a test. */
export class Hooks {
  readonly ids: string[] = [];
  constructor(readonly api: Client) {}

  /** POST /v1/webhooks, expecting 201; returns the body (with the secret). */
  async create(body: Record<string, unknown>): Promise<any> {
    const res = await this.api.postJson("/v1/webhooks", body);
    expect(res.status, `POST /v1/webhooks ${JSON.stringify(body)} -> ${res.status} ${res.text}`).toBe(201);
    this.ids.push(res.body.id);
    return res.body;
  }

  async get(id: string): Promise<any> {
    const res = await this.api.get(`/v1/webhooks/${id}`);
    expect(res.status, res.text).toBe(200);
    return res.body;
  }

  patch(id: string, body: unknown): Promise<HttpResponse> {
    return this.api.send({ method: "PATCH", path: `/v1/webhooks/${id}`, json: body });
  }

  async attempts(id: string, limit?: number): Promise<any[]> {
    const res = await this.api.get(`/v1/webhooks/${id}/attempts${limit === undefined ? "" : `?limit=${limit}`}`);
    expect(res.status, res.text).toBe(200);
    return res.body.attempts;
  }

  async deadLetters(id: string): Promise<any[]> {
    const res = await this.api.get(`/v1/webhooks/${id}/dead-letters`);
    expect(res.status, res.text).toBe(200);
    return res.body.deadLetters;
  }

  /** Deletes every webhook registered here: 204, or 404 for one the test deleted itself. */
  async cleanup(): Promise<void> {
    for (const id of this.ids.splice(0)) {
      const res = await this.api.send({ method: "DELETE", path: `/v1/webhooks/${id}` });
      expect([204, 404], `DELETE /v1/webhooks/${id} -> ${res.status} ${res.text}`).toContain(res.status);
    }
  }
}

/**
 * Checks a Standard Webhooks signature header by hand: "v1,<base64 HMAC-SHA256 of
 * {id}.{timestamp}.{body} keyed by the base64-decoded secret>", several space-separated.
 * Returns which of the signatures match the secret.
 */
export function signatureMatches(secret: string, headers: Record<string, string>, body: string): boolean[] {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`)
    .digest();
  return (headers["webhook-signature"] ?? "").split(" ").map((part) => {
    const [version, sig] = part.split(",");
    const got = Buffer.from(sig ?? "", "base64");
    return version === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

export const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** A secret is whsec_ + canonical base64 of 24 to 64 bytes. */
export function expectSecret(secret: unknown): void {
  expect(secret).toMatch(SECRET);
  const b64 = (secret as string).slice(6);
  const bytes = Buffer.from(b64, "base64");
  expect(bytes.length).toBeGreaterThanOrEqual(24);
  expect(bytes.length).toBeLessThanOrEqual(64);
  expect(bytes.toString("base64")).toBe(b64);
}
