/**
 * Webhook delivery, black box (PROTOCOL.md section 6): a real gateway over its own nats-server
 * POSTs to node:http receivers on 127.0.0.1 (allowed with STREAMGATE_WEBHOOK_ALLOWED_NETWORKS).
 * Retry schedules are a few hundred ms so nothing waits minutes.
 */
import { HTTP, type CloudEvent } from "cloudevents";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/config/config.js";
import { runGateway, type RunningGateway } from "../../src/app.js";
import { RFC3339_UTC, T, tag } from "../support/events.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { client, type Client } from "../support/http.js";
import { startReceiver, type Behaviour, type ReceivedRequest, type Receiver, type Reply } from "../support/webhook-receiver.js";
import { sleep } from "../support/wait.js";
import {
  envelopeAt,
  Hooks,
  publish,
  publishShipped,
  shipped,
  signatureMatches,
  streamInfo,
} from "../support/webhooks.js";

/** Short enough that a whole retry cycle takes well under a second. */
const FAST = { retrySchedule: ["100ms", "200ms"], timeoutMs: 2_000 } as const;

let gw: TestGateway;
let api: Client;
let hooks: Hooks;
const receivers: Receiver[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
  api = client(gw.url);
  hooks = new Hooks(api);
});
afterEach(async () => {
  await hooks.cleanup();
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => gw?.close());

async function receiver(behaviour?: Behaviour): Promise<Receiver> {
  const r = await startReceiver(behaviour);
  receivers.push(r);
  return r;
}

/** Requests answered 2xx, in arrival order. */
const succeeded = (r: Receiver, ok: Set<number>) => r.requests.filter((q) => ok.has(q.index));

/** A behaviour that records which requests it answered 2xx, so tests can tell successes apart. */
function tracking(decide: (req: ReceivedRequest, r: Receiver) => number | Reply) {
  const ok = new Set<number>();
  const behaviour: Behaviour = (req, r) => {
    const reply = decide(req, r);
    const status = typeof reply === "number" ? reply : (reply.status ?? 204);
    const dropped = typeof reply !== "number" && reply.destroy;
    if (status >= 200 && status < 300 && !dropped) ok.add(req.index);
    return reply;
  };
  return { ok, behaviour };
}

/**
 * A webhook whose first attempt at one event is answered with `first`, the retry with 200;
 * resolves once the retry came, after checking that these two were all the receiver got.
 */
async function failedOnceThenRetried(first: Reply) {
  const { ok, behaviour } = tracking((req) => (req.attempt === 1 ? first : 200));
  const r = await receiver(behaviour);
  const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
  const [p] = await publishShipped(api, 1);
  await r.until(() => ok.size === 1, "the retry", 10_000);
  expect(r.requests.map((q) => [q.offset, q.attempt]), r.summary()).toEqual([
    [p!.offset, 1],
    [p!.offset, 2],
  ]);
  return { hook, p: p! };
}

const priorRequestsFor = (r: Receiver, req: ReceivedRequest) => r.requests.filter((q) => q.index < req.index && q.offset === req.offset).length;

describe("signing and formats", () => {
  it("signs envelope deliveries with Standard Webhooks: webhook-id is the event id, streamgate-* headers name stream, offset and attempt", async () => {
    const r = await receiver();
    const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
    const key = tag("sig");
    const published = await publish(api, [
      { type: T.created, id: `${key}-created`, data: { orderId: key, customerId: "c-1", totalCents: "1999", currency: "EUR", items: [{ sku: "a", quantity: 2, unitPriceCents: "500" }] } },
      shipped(key),
      { type: T.cancelled, data: { orderId: key, reason: "REASON_OUT_OF_STOCK" } },
    ]);
    expect(published[0]!.id).toBe(`${key}-created`);
    await r.waitForCount(3);
    expect(r.requests.map((q) => q.offset)).toEqual(published.map((p) => p.offset));

    const verifier = new StandardWebhook(hook.secret);
    const stranger = new StandardWebhook("whsec_" + Buffer.alloc(32, 7).toString("base64"));
    for (const [i, req] of r.requests.entries()) {
      const p = published[i]!;
      expect(req.method).toBe("POST");
      expect(req.path).toBe("/hook");
      expect(req.headers["content-type"]).toMatch(/^application\/json/);
      expect(req.headers["webhook-id"]).toBe(p.id);
      expect(req.headers["streamgate-stream"]).toBe("orders");
      expect(req.headers["streamgate-offset"]).toBe(String(p.offset));
      expect(req.headers["streamgate-attempt"]).toBe("1");
      expect(req.headers["webhook-timestamp"]).toMatch(/^\d+$/);
      expect(Math.abs(Number(req.headers["webhook-timestamp"]) - req.at / 1000)).toBeLessThan(10);
      expect(req.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
      // The library, and the definition by hand.
      expect(() => verifier.verify(req.body, req.headers)).not.toThrow();
      expect(signatureMatches(hook.secret, req.headers, req.body)).toEqual([true]);
      expect(() => stranger.verify(req.body, req.headers)).toThrow();
      expect(() => verifier.verify(req.body + " ", req.headers)).toThrow();
      // The body is exactly the envelope every other protocol delivers.
      expect(JSON.parse(req.body)).toEqual(await envelopeAt(api, p.offset));
    }
    expect(JSON.parse(r.requests[0]!.body).data).toMatchObject({ orderId: key, totalCents: "1999" });
  });

  it("sends webhooks of one stream the same bytes per format, each with its own signature, headers and attempts log", async () => {
    // Two of each format: the gateway makes an event's body once and shares it among them.
    const formats = ["envelope", "envelope", "cloudevents", "cloudevents"] as const;
    const made = [];
    for (const [i, format] of formats.entries()) {
      const r = await receiver();
      const hook = await hooks.create({ url: r.url, stream: "orders", format, headers: { [`x-hook-${i}`]: `value-${i}` }, ...FAST });
      made.push({ r, hook, format });
    }
    const published = await publishShipped(api, 2);
    for (const { r } of made) await r.waitForCount(2);

    for (const [i, p] of published.entries()) {
      const requests = made.map(({ r }) => r.requests[i]!);
      expect(requests.map((q) => q.offset)).toEqual(formats.map(() => p.offset));
      const [envelope, envelopeToo, cloudEvent, cloudEventToo] = requests.map((q) => q.body);
      expect(envelopeToo).toBe(envelope);
      expect(cloudEventToo).toBe(cloudEvent);
      expect(JSON.parse(envelope!)).toEqual(await envelopeAt(api, p.offset));
      expect(JSON.parse(cloudEvent!)).toEqual(JSON.parse(envelope!).data);
      for (const [j, req] of requests.entries()) {
        // Signed with its own secret only, and carrying its own custom header only.
        for (const [k, other] of made.entries()) expect(signatureMatches(other.hook.secret, req.headers, req.body), `hook ${j}, secret ${k}`).toEqual([j === k]);
        expect(Object.keys(req.headers).filter((name) => name.startsWith("x-hook-"))).toEqual([`x-hook-${j}`]);
        expect(req.headers["webhook-id"]).toBe(p.id);
        expect(req.headers["ce-id"]).toBe(made[j]!.format === "cloudevents" ? p.id : undefined);
      }
    }
    // Each webhook's attempts log has its own two deliveries.
    for (const { hook } of made) {
      await expect
        .poll(async () => (await hooks.attempts(hook.id)).map((a: { offset: number; attempt: number; status: number }) => [a.offset, a.attempt, a.status]))
        .toEqual([...published].reverse().map((p) => [p.offset, 1, 204]));
    }
  });

  it("signs with both secrets after rotate-secret, and each secret alone verifies", async () => {
    const r = await receiver();
    const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
    await publishShipped(api, 1);
    await r.waitForCount(1);
    expect(r.requests[0]!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);

    const rotated = await api.postJson(`/v1/webhooks/${hook.id}/rotate-secret`, {});
    expect(rotated.status, rotated.text).toBe(200);
    const newSecret: string = rotated.body.secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(hook.secret);
    expect(rotated.text).not.toContain(hook.secret);
    expect(rotated.body.id).toBe(hook.id);

    // Published right after the rotation returned: already signed with both.
    const published = await publishShipped(api, 2);
    await r.waitForCount(3);
    for (const [i, req] of r.requests.slice(1).entries()) {
      expect(req.offset).toBe(published[i]!.offset);
      const signatures = req.headers["webhook-signature"]!.split(" ");
      expect(signatures, req.headers["webhook-signature"]).toHaveLength(2);
      for (const s of signatures) expect(s).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
      expect(() => new StandardWebhook(newSecret).verify(req.body, req.headers)).not.toThrow();
      expect(() => new StandardWebhook(hook.secret).verify(req.body, req.headers)).not.toThrow();
      expect(signatureMatches(newSecret, req.headers, req.body).filter(Boolean)).toHaveLength(1);
      expect(signatureMatches(hook.secret, req.headers, req.body).filter(Boolean)).toHaveLength(1);
    }
  });

  it("delivers CloudEvents 1.0 in binary mode: ce-* attributes, body = the data in canonical JSON", async () => {
    const r = await receiver();
    const hook = await hooks.create({ url: r.url, stream: "orders", format: "cloudevents", ...FAST });
    const key = tag("ce");
    const [p] = await publish(api, [
      { type: T.created, data: { orderId: key, totalCents: "4200", currency: "USD", createdAt: "2026-11-22T10:00:00.123Z" } },
    ]);
    await r.waitForCount(1);
    const req = r.requests[0]!;
    const envelope = await envelopeAt(api, p!.offset);

    expect(req.headers["content-type"]).toMatch(/^application\/json/);
    expect(req.headers["ce-specversion"]).toBe("1.0");
    expect(req.headers["ce-id"]).toBe(p!.id);
    expect(req.headers["ce-type"]).toBe(T.created);
    expect(req.headers["ce-source"]).toBe("/streams/orders");
    expect(req.headers["ce-subject"]).toBe(key);
    expect(req.headers["ce-time"]).toBe(envelope.time);
    expect(req.headers["ce-time"]).toMatch(RFC3339_UTC);
    expect(JSON.parse(req.body)).toEqual(envelope.data);
    expect(JSON.parse(req.body)).toEqual({ orderId: key, totalCents: "4200", currency: "USD", createdAt: "2026-11-22T10:00:00.123Z" });

    const received = HTTP.toEvent({ headers: req.headers, body: req.body });
    const event = (Array.isArray(received) ? received[0] : received) as CloudEvent<unknown>;
    expect(event.validate()).toBe(true);
    expect(event).toMatchObject({ specversion: "1.0", id: p!.id, type: T.created, source: "/streams/orders", subject: key });
    expect(event.data).toEqual(envelope.data);

    // Still a signed Standard Webhooks delivery.
    expect(req.headers["webhook-id"]).toBe(p!.id);
    expect(req.headers["streamgate-offset"]).toBe(String(p!.offset));
    expect(() => new StandardWebhook(hook.secret).verify(req.body, req.headers)).not.toThrow();
  });

  it("percent-encodes a key that is no header value into ce-subject, and goes on delivering", async () => {
    const r = await receiver();
    await hooks.create({ url: r.url, stream: "orders", format: "cloudevents", ...FAST });
    const key = `${tag("ce")}-ü "100%" ✓`;
    const [first, second] = await publish(api, [
      { type: T.shipped, data: { orderId: key } },
      { type: T.shipped, data: { orderId: tag("ascii") } },
    ]);
    await r.waitForCount(2);
    const [req, next] = r.requests;
    expect(req!.headers["ce-id"]).toBe(first!.id);
    expect(req!.headers["ce-subject"]).toBe(`${key.split("-ü")[0]}-%C3%BC%20%22100%25%22%20%E2%9C%93`);
    expect(decodeURIComponent(req!.headers["ce-subject"]!)).toBe(key);
    expect(next!.headers["ce-id"]).toBe(second!.id);
  });

  it("sends the webhook's custom headers, which its view names without their values", async () => {
    const r = await receiver();
    const hook = await hooks.create({
      url: r.url,
      stream: "orders",
      headers: { "X-Tenant": "acme", Authorization: "Bearer t0k3n", "x-empty-ish": "a b  c" },
      ...FAST,
    });
    const [p] = await publishShipped(api, 1);
    await r.waitForCount(1);
    const req = r.requests[0]!;
    expect(req.headers["x-tenant"]).toBe("acme");
    expect(req.headers["authorization"]).toBe("Bearer t0k3n");
    expect(req.headers["x-empty-ish"]).toBe("a b  c");
    // Custom headers come on top of the signed delivery's own, not instead of them.
    expect(req.headers["webhook-id"]).toBe(p!.id);
    expect(hook.headers).toEqual(["X-Tenant", "Authorization", "x-empty-ish"]);
    expect((await hooks.get(hook.id)).headers).toEqual(["X-Tenant", "Authorization", "x-empty-ish"]);
  });
});

describe("retries, dead letters, disabling", () => {
  it("retries failures on the schedule and, with maxInFlight 1, still delivers every event in offset order", async () => {
    // Every event fails twice, then succeeds on its third attempt.
    const { ok, behaviour } = tracking((req, r) => (priorRequestsFor(r, req) < 2 ? 500 : 200));
    const r = await receiver(behaviour);
    const hook = await hooks.create({ url: r.url, stream: "orders", maxInFlight: 1, ...FAST });
    const published = await publishShipped(api, 4);
    await r.until(() => ok.size === 4, "4 successes", 15_000);

    const expectedOffsets = published.flatMap((p) => [p.offset, p.offset, p.offset]);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual(expectedOffsets);
    expect(r.requests.map((q) => q.attempt)).toEqual(published.flatMap(() => [1, 2, 3]));
    expect(r.requests.map((q) => q.webhookId)).toEqual(published.flatMap((p) => [p.id, p.id, p.id]));
    expect(succeeded(r, ok).map((q) => q.offset)).toEqual(published.map((p) => p.offset));
    expect(r.maxOpen()).toBe(1);
    // The schedule's delays (100 ms and 200 ms, +-20%) separate the attempts of one event.
    for (let i = 0; i < r.requests.length; i += 3) {
      const [a, b, c] = r.requests.slice(i, i + 3) as [ReceivedRequest, ReceivedRequest, ReceivedRequest];
      expect(b.t - a.endT!).toBeGreaterThanOrEqual(70);
      expect(c.t - b.endT!).toBeGreaterThanOrEqual(150);
    }
    await expect
      .poll(async () => (await hooks.get(hook.id)).counts)
      .toEqual({ delivered: 4, failedAttempts: 8, deadLetters: 0, duplicates: 0 });
  });

  it("turns an event that always fails into a dead letter, goes on with later events, and redelivers it on request", async () => {
    let rejecting = true;
    const prefix = tag("dl");
    const badId = `${prefix}-bad`;
    const { ok, behaviour } = tracking((req) => (rejecting && req.webhookId === badId ? { status: 500, body: "broken" } : 200));
    const r = await receiver(behaviour);
    const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
    const [a, b, c] = await publish(api, [shipped(`${prefix}-a`), shipped(`${prefix}-b`, badId), shipped(`${prefix}-c`)]);
    expect(b!.id).toBe(badId);
    await r.until(() => succeeded(r, ok).some((q) => q.offset === c!.offset), "event c", 10_000);

    const forB = r.requests.filter((q) => q.offset === b!.offset);
    expect(forB.map((q) => q.attempt), r.summary()).toEqual([1, 2, 3]);
    expect(succeeded(r, ok).map((q) => q.offset)).toEqual([a!.offset, c!.offset]);
    const cRequest = r.requests.find((q) => q.offset === c!.offset)!;
    expect(cRequest.index).toBeGreaterThan(forB.at(-1)!.index);

    let letters: any[] = [];
    await expect.poll(async () => (letters = await hooks.deadLetters(hook.id)).length).toBe(1);
    expect(letters[0]).toMatchObject({ offset: b!.offset, eventId: b!.id, attempts: 3 });
    expect(letters[0].at).toMatch(RFC3339_UTC);
    expect(letters[0].lastError).toMatch(/500/);
    await expect.poll(async () => (await hooks.get(hook.id)).counts).toEqual({ delivered: 2, failedAttempts: 3, deadLetters: 1, duplicates: 0 });
    expect((await hooks.get(hook.id)).position).toBe(c!.offset + 1);

    rejecting = false;
    const redeliver = await api.postJson(`/v1/webhooks/${hook.id}/dead-letters/redeliver`, {});
    expect(redeliver.status, redeliver.text).toBe(200);
    expect(redeliver.body).toEqual({ redelivered: 1 });
    await r.until(() => succeeded(r, ok).some((q) => q.offset === b!.offset), "b redelivered", 10_000);
    const again = succeeded(r, ok).find((q) => q.offset === b!.offset)!;
    expect(again.webhookId).toBe(b!.id);
    expect(again.headers["streamgate-offset"]).toBe(String(b!.offset));
    expect(JSON.parse(again.body)).toEqual(await envelopeAt(api, b!.offset));
    expect(signatureMatches(hook.secret, again.headers, again.body)).toEqual([true]);
    await expect.poll(async () => (await hooks.deadLetters(hook.id)).length).toBe(0);
    await sleep(300);
    expect(r.requests.filter((q) => q.offset === b!.offset)).toHaveLength(4);
  });

  it("disables the webhook on 410 Gone, sends nothing more, and resumes with PATCH paused:false", async () => {
    let gone = true;
    const { ok, behaviour } = tracking(() => (gone ? 410 : 200));
    const r = await receiver(behaviour);
    const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
    const [a] = await publishShipped(api, 1);
    await r.waitForCount(1);
    await expect.poll(async () => (await hooks.get(hook.id)).status).toBe("disabled");

    const [b] = await publishShipped(api, 1);
    await sleep(1_000);
    expect(r.requests, r.summary()).toHaveLength(1);

    gone = false;
    const resumedAt = performance.now();
    const resumed = await hooks.patch(hook.id, { paused: false });
    expect(resumed.status, resumed.text).toBe(200);
    expect(resumed.body.status).toBe("active");
    expect(resumed.body.disabledReason).toBeUndefined();
    await r.until(() => succeeded(r, ok).some((q) => q.offset === b!.offset), "b after resuming", 15_000);
    await sleep(300);
    // Delivery resumes at once (not after the consumer's ack wait of timeoutMs + 5 s).
    const firstAfter = r.requests[1]!.t - resumedAt;
    expect.soft(firstAfter, `first request ${Math.round(firstAfter)} ms after PATCH paused:false\n${r.summary()}`).toBeLessThan(2_000);
    // The event answered with 410 was not delivered: it comes again, first, and once.
    expect(succeeded(r, ok).map((q) => q.offset), r.summary()).toEqual([a!.offset, b!.offset]);
    expect(succeeded(r, ok)[0]!.webhookId).toBe(a!.id);
  });

  it("does not follow a 302: it is a failed attempt, retried, and the redirect target never gets a request", async () => {
    const target = await receiver();
    const { hook, p } = await failedOnceThenRetried({ status: 302, headers: { location: target.url }, body: "moved" });
    await sleep(300);
    expect(target.requests, target.summary()).toHaveLength(0);
    let log: any[] = [];
    await expect.poll(async () => (log = await hooks.attempts(hook.id)).length).toBe(2);
    expect(log[1]).toMatchObject({ offset: p.offset, attempt: 1, status: 302 });
    expect(log[1].error).toMatch(/redirect/i);
  });

  it.each([429, 503])("honours Retry-After on %i (the next attempt waits at least that long)", async (status) => {
    const { ok, behaviour } = tracking((req) => (req.attempt === 1 ? { status, headers: { "retry-after": "1" } } : 200));
    const r = await receiver(behaviour);
    // The schedule alone would retry after ~50 ms.
    await hooks.create({ url: r.url, stream: "orders", retrySchedule: ["50ms", "50ms"], timeoutMs: 2_000 });
    const [p] = await publishShipped(api, 1);
    await r.until(() => ok.size === 1, "the retry", 10_000);
    const [first, second] = r.requests as [ReceivedRequest, ReceivedRequest];
    expect([first.offset, second.offset]).toEqual([p!.offset, p!.offset]);
    const gap = second.t - first.endT!;
    expect(gap, `gap ${gap} ms`).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(5_000);
  });

  it("counts a receiver slower than timeoutMs as a failure and retries", async () => {
    const { ok, behaviour } = tracking((req) => (req.attempt === 1 ? { status: 200, delayMs: 1_500 } : 200));
    const r = await receiver(behaviour);
    const hook = await hooks.create({ url: r.url, stream: "orders", timeoutMs: 300, retrySchedule: ["100ms"] });
    const [p] = await publishShipped(api, 1);
    await r.until(() => r.requests.length === 2, "the retry", 10_000);
    const [first, second] = r.requests as [ReceivedRequest, ReceivedRequest];
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    expect(second.webhookId).toBe(p!.id);
    // The gateway gave up on the first long before the receiver would have answered.
    expect(second.t - first.t).toBeLessThan(1_200);
    await r.until(() => ok.has(1), "the second answered", 5_000);
    let log: any[] = [];
    await expect.poll(async () => (log = await hooks.attempts(hook.id)).length).toBe(2);
    const timedOut = log.find((a) => a.attempt === 1);
    expect(timedOut.status).toBeUndefined();
    expect(timedOut.error).toMatch(/time/i);
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(250);
    expect(timedOut.durationMs).toBeLessThan(1_200);
    expect(log.find((a) => a.attempt === 2)).toMatchObject({ status: 200 });
    // Only one success, no duplicate from the slow first attempt.
    await sleep(1_500);
    expect(r.requests).toHaveLength(2);
  });

  it("respects a timeoutMs raised by PATCH: a receiver answering within it gets the event once", async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 9_000 }));
    const hook = await hooks.create({ url: r.url, stream: "orders", timeoutMs: 500, retrySchedule: ["100ms"] });
    const patched = await hooks.patch(hook.id, { timeoutMs: 15_000 });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.timeoutMs).toBe(15_000);
    // JetStream's ack wait is far shorter than the attempt: only the heartbeat keeps the event
    // from being handed out again while the receiver takes 9 s.
    const consumer = await gw.gateway.session.backbone.jsm.consumers.info("orders", hook.id);
    expect((consumer.config.ack_wait ?? 0) / 1e6, "the consumer's ack_wait (ms)").toBeLessThan(9_000);
    await sleep(300); // the dispatcher picks up the change
    const [p] = await publishShipped(api, 1);
    await r.waitForCount(1);
    await sleep(9_500);
    // One attempt, answered 200 after 9 s (< 15 s): nothing may be sent again.
    expect(r.requests.map((q) => [q.offset, q.attempt]), r.summary()).toEqual([[p!.offset, 1]]);
    expect((await hooks.get(hook.id)).counts).toMatchObject({ delivered: 1, failedAttempts: 0 });
  }, 30_000);
});

describe("changes and failures while delivering", () => {
  it("retries a dropped connection and a receiver that is not listening", async () => {
    const { hook, p } = await failedOnceThenRetried({ status: 200, destroy: true });

    await expect.poll(async () => (await hooks.get(hook.id)).counts).toEqual({ delivered: 1, failedAttempts: 1, deadLetters: 0, duplicates: 0 });
    const log1 = await hooks.attempts(hook.id);
    expect(log1[1]).toMatchObject({ offset: p.offset, attempt: 1 });
    expect(log1[1].status).toBeUndefined();
    expect(log1[1].error).toMatch(/closed|reset|socket/i);
    await hooks.cleanup();

    // Nothing listens on the port of a closed receiver: every attempt fails, then a dead letter.
    const gone = await startReceiver();
    const deadUrl = gone.url;
    await gone.close();
    const dead = await hooks.create({ url: deadUrl, stream: "orders", ...FAST });
    const [q] = await publishShipped(api, 1);
    let letters: any[] = [];
    await expect.poll(async () => (letters = await hooks.deadLetters(dead.id)).length, { timeout: 5_000 }).toBe(1);
    expect(letters[0]).toMatchObject({ offset: q!.offset, eventId: q!.id, attempts: 3 });
    const log = await hooks.attempts(dead.id);
    expect(log.map((a) => a.attempt)).toEqual([3, 2, 1]);
    for (const a of log) {
      expect(a.status).toBeUndefined();
      expect(a.error).toMatch(/ECONNREFUSED/);
    }
  });

  it("shows the event waiting for its retry as the webhook's position", async () => {
    const r = await receiver(() => 500);
    await publishShipped(api, 1); // the stream does not start at this webhook's first event
    const hook = await hooks.create({ url: r.url, stream: "orders", retrySchedule: ["3s"], timeoutMs: 2_000 });
    const [a] = await publishShipped(api, 1);
    await r.waitForCount(1);
    await sleep(200);
    const view = await hooks.get(hook.id);
    expect(view.position, "position while offset " + a!.offset + " waits for its retry").toBe(a!.offset);
  });

  it("PATCHing filters while an event waits for its retry goes on from that event, not from the start of the stream", async () => {
    let failing = true;
    const r = await receiver(() => (failing ? 500 : 200));
    await publishShipped(api, 2); // older events this webhook must never see
    const hook = await hooks.create({ url: r.url, stream: "orders", retrySchedule: ["1s", "1s"], timeoutMs: 2_000 });
    const key = tag("pf");
    const [a] = await publish(api, [shipped(key)]);
    await r.waitForCount(1);
    const patched = await hooks.patch(hook.id, { types: [T.shipped] });
    expect(patched.status, patched.text).toBe(200);
    failing = false;
    const [b] = await publish(api, [shipped(key)]);
    await r.until(() => r.requests.some((x) => x.offset === b!.offset), "b", 10_000);
    await sleep(300);
    const offsets = r.requests.map((q) => q.offset);
    expect(Math.min(...offsets), r.summary()).toBe(a!.offset);
    expect([...new Set(offsets)]).toEqual([a!.offset, b!.offset]);
  });

  it("sends the next deliveries to a PATCHed url with PATCHed headers (replacing the old ones) and format", async () => {
    const first = await receiver();
    const second = await receiver();
    const hook = await hooks.create({ url: first.url, stream: "orders", headers: { "x-v": "1" }, ...FAST });
    const [a] = await publishShipped(api, 1);
    await first.waitForCount(1);
    expect(first.requests[0]!.headers["x-v"]).toBe("1");

    const patched = await hooks.patch(hook.id, { url: second.url, headers: { "x-w": "2" }, format: "cloudevents" });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ url: second.url, headers: ["x-w"], format: "cloudevents" });
    const [b] = await publishShipped(api, 1);
    await second.waitForCount(1);
    await sleep(300);
    expect(first.requests.map((q) => q.offset)).toEqual([a!.offset]);
    const req = second.requests[0]!;
    expect(req.offset).toBe(b!.offset);
    expect(req.headers["x-w"]).toBe("2");
    expect(req.headers["x-v"]).toBeUndefined();
    expect(req.headers["ce-id"]).toBe(b!.id);
    expect(() => new StandardWebhook(hook.secret).verify(req.body, req.headers)).not.toThrow();
  });

  it("never accepts custom headers it cannot send: each is refused at registration or delivered", async () => {
    const cases: Record<string, Record<string, string>> = {
      "control character": { "x-ctl": "a\u0001b" },
      "NUL": { "x-nul": "a\u0000b" },
      "non-Latin-1 character": { "x-euro": "€" },
      "Expect": { Expect: "100-continue" },
      "Upgrade": { Upgrade: "websocket" },
      "Keep-Alive": { "Keep-Alive": "timeout=5" },
    };
    const accepted: [string, Receiver][] = [];
    for (const [name, headers] of Object.entries(cases)) {
      const r = await receiver();
      const res = await api.postJson("/v1/webhooks", { url: r.url, stream: "orders", headers, ...FAST });
      expect([201, 400], `${name}: ${res.status} ${res.text}`).toContain(res.status);
      if (res.status === 201) {
        hooks.ids.push(res.body.id);
        accepted.push([name, r]);
      }
    }
    await publishShipped(api, 1);
    await sleep(2_000);
    const undeliverable = accepted.filter(([, r]) => r.requests.length === 0).map(([name]) => name);
    expect(undeliverable, "accepted at registration (201) but never delivered").toEqual([]);
  });
});

describe("replay, concurrency, state", () => {
  it("replays from an offset: the same events again, with the same webhook-id", async () => {
    const r = await receiver();
    const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
    const published = await publishShipped(api, 3);
    await r.waitForCount(3);
    const replay = await api.postJson(`/v1/webhooks/${hook.id}/replay`, { from: published[1]!.offset });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body.id).toBe(hook.id);
    expect(replay.text).not.toContain(hook.secret);
    await r.waitForCount(5);
    await sleep(300);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([
      ...published.map((p) => p.offset),
      published[1]!.offset,
      published[2]!.offset,
    ]);
    expect(r.requests.slice(3).map((q) => q.webhookId)).toEqual([published[1]!.id, published[2]!.id]);
    expect(r.requests.slice(3).map((q) => q.body)).toEqual(r.requests.slice(1, 3).map((q) => q.body));

    const last = await api.postJson(`/v1/webhooks/${hook.id}/replay`, { last: 1 });
    expect(last.status, last.text).toBe(200);
    await r.waitForCount(6);
    expect(r.requests[5]!.offset).toBe(published[2]!.offset);
    expect(r.requests[5]!.webhookId).toBe(published[2]!.id);
  });

  it("runs deliveries concurrently with maxInFlight 5, never more than 5 at once", async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 300 }));
    await hooks.create({ url: r.url, stream: "orders", maxInFlight: 5, ...FAST });
    const published = await publishShipped(api, 10);
    const started = performance.now();
    await r.until(() => r.requests.filter((x) => x.endT !== undefined).length >= 10, "10 answered", 10_000);
    const elapsed = performance.now() - started;
    expect(r.maxOpen(), r.summary()).toBeGreaterThan(1);
    expect(r.maxOpen()).toBeLessThanOrEqual(5);
    expect(elapsed).toBeLessThan(10 * 300);
    await sleep(300);
    expect(r.requests.map((q) => q.offset).sort((x, y) => x - y)).toEqual(published.map((p) => p.offset));
  });

  it("shows position, counts and lastError, and the attempts log newest first", async () => {
    // Every answer takes this long, so each attempt's durationMs has a known floor.
    const answerMs = 150;
    const { ok, behaviour } = tracking((req, r) =>
      priorRequestsFor(r, req) === 0
        ? { status: 500, body: "x".repeat(5_000), delayMs: answerMs }
        : { status: 200, body: "thanks", delayMs: answerMs },
    );
    const r = await receiver(behaviour);
    const hook = await hooks.create({ url: r.url, stream: "orders", retrySchedule: ["100ms"], timeoutMs: 2_000 });
    const before = await hooks.get(hook.id);
    const published = await publishShipped(api, 2);
    expect(before.position).toBe(published[0]!.offset);
    expect(before.counts).toEqual({ delivered: 0, failedAttempts: 0, deadLetters: 0, duplicates: 0 });
    expect(before.lastError).toBeUndefined();
    await r.until(() => ok.size === 2, "2 successes", 10_000);

    let view: any;
    await expect.poll(async () => (view = await hooks.get(hook.id)).counts).toEqual({ delivered: 2, failedAttempts: 2, deadLetters: 0, duplicates: 0 });
    expect(view.position).toBe(published[1]!.offset + 1);
    expect(view.status).toBe("active");
    expect(view.lastError.message).toMatch(/500/);
    expect(view.lastError.at).toMatch(RFC3339_UTC);

    let log: any[] = [];
    await expect.poll(async () => (log = await hooks.attempts(hook.id)).length).toBe(4);
    expect(log.map((a) => [a.offset, a.attempt, a.status])).toEqual([
      [published[1]!.offset, 2, 200],
      [published[1]!.offset, 1, 500],
      [published[0]!.offset, 2, 200],
      [published[0]!.offset, 1, 500],
    ]);
    const times = log.map((a) => Date.parse(a.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    for (const a of log) {
      expect(a.at).toMatch(RFC3339_UTC);
      const req = r.requests.find((q) => q.offset === a.offset && q.attempt === a.attempt)!;
      const exchange = req.endT! - req.t;
      // Timers may fire a fraction of a millisecond early.
      expect(exchange, r.summary()).toBeGreaterThanOrEqual(answerMs - 1);
      // The gateway's clock runs from before the request reached the receiver to after its answer.
      expect(a.durationMs).toBeGreaterThanOrEqual(Math.floor(exchange));
      // Answered, not timed out (timeoutMs 2000).
      expect(a.durationMs).toBeLessThan(2_000);
      expect(Buffer.byteLength(a.response ?? "", "utf8")).toBeLessThanOrEqual(1024);
    }
    expect(log[0]).toMatchObject({ eventId: published[1]!.id, response: "thanks" });
    expect(log[1].error).toMatch(/500/);
    expect(log[1].response).toBe("x".repeat(1024));
    expect(await hooks.attempts(hook.id, 1)).toEqual([log[0]]);
  });

  it("keeps a logged response within 1 KiB of UTF-8 even when the cut falls inside a character", async () => {
    const r = await receiver(() => ({ status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "a" + "é".repeat(2_000) }));
    const hook = await hooks.create({ url: r.url, stream: "orders", ...FAST });
    await publishShipped(api, 1);
    await r.waitForCount(1);
    let log: any[] = [];
    await expect.poll(async () => (log = await hooks.attempts(hook.id)).length).toBe(1);
    const bytes = Buffer.byteLength(log[0].response, "utf8");
    expect(bytes, `response is ${bytes} bytes of UTF-8`).toBeLessThanOrEqual(1024);
    expect(log[0].response.startsWith("a" + "é".repeat(500))).toBe(true);
  });
});

describe("filters and positions", () => {
  it("delivers only the event types and key asked for", async () => {
    const k1 = tag("kx");
    const k2 = tag("ky");
    const [byType, byKey, byTwoTypes, byTypeAndKey] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    await hooks.create({ url: byType.url, stream: "orders", types: [T.shipped], ...FAST });
    await hooks.create({ url: byKey.url, stream: "orders", key: k1, ...FAST });
    await hooks.create({ url: byTwoTypes.url, stream: "orders", types: [T.shipped, T.cancelled], ...FAST });
    await hooks.create({ url: byTypeAndKey.url, stream: "orders", types: [T.created], key: k1, ...FAST });
    // The fifth, OrderCreated for k2, matches none of the filters.
    const [c1, s1, s2, x2, , s1b] = await publish(api, [
      { type: T.created, data: { orderId: k1 } },
      shipped(k1),
      shipped(k2),
      { type: T.cancelled, data: { orderId: k2, reason: "REASON_CUSTOMER_REQUEST" } },
      { type: T.created, data: { orderId: k2 } },
      shipped(k1),
    ]);
    const expected = new Map<Receiver, number[]>([
      [byType, [s1!, s2!, s1b!].map((p) => p.offset)],
      [byKey, [c1!, s1!, s1b!].map((p) => p.offset)],
      [byTwoTypes, [s1!, s2!, x2!, s1b!].map((p) => p.offset)],
      [byTypeAndKey, [c1!].map((p) => p.offset)],
    ]);
    for (const [r, offsets] of expected) await r.waitForCount(offsets.length);
    await sleep(500);
    for (const [r, offsets] of expected) expect(r.requests.map((q) => q.offset), r.summary()).toEqual(offsets);
  });

  it("starts where the position says: from an offset, first, now, since and last", async () => {
    const published = await publishShipped(api, 2);
    await sleep(30);
    const later = await publishShipped(api, 2);
    const [, p2, p3, p4] = [...published, ...later] as [typeof published[0], typeof published[0], typeof published[0], typeof published[0]];
    const info = await streamInfo(api);
    expect(info.last_offset).toBe(p4.offset);
    const p3time: string = (await envelopeAt(api, p3.offset)).time;

    const cases: [string, Record<string, unknown>, number][] = [
      ["from offset", { from: p2.offset }, p2.offset],
      ["from first", { from: "first" }, info.first_offset],
      ["from now", { from: "now" }, p4.offset + 1],
      ["no position (now)", {}, p4.offset + 1],
      ["since", { since: p3time }, p3.offset],
      ["last 2", { last: 2 }, p3.offset],
    ];
    const made: [string, Receiver, any, number][] = [];
    for (const [name, position, start] of cases) {
      const r = await receiver();
      // Paused, so the position shown is where delivery will start.
      const hook = await hooks.create({ url: r.url, stream: "orders", ...position, paused: true, ...FAST });
      expect(hook.status, name).toBe("paused");
      expect(hook.position, name).toBe(start);
      expect((await hooks.get(hook.id)).position, name).toBe(start);
      made.push([name, r, hook, start]);
    }
    const [p5] = await publishShipped(api, 1);
    await sleep(300);
    for (const [name, r, hook, start] of made) {
      expect(r.requests, `${name}: paused, nothing sent`).toHaveLength(0);
      const res = await hooks.patch(hook.id, { paused: false });
      expect(res.status, res.text).toBe(200);
      await r.until(() => r.requests.some((x) => x.offset === p5!.offset), `${name}: up to p5`, 15_000);
      const offsets = r.requests.map((q) => q.offset);
      const want = Array.from({ length: p5!.offset - start + 1 }, (_, i) => start + i);
      expect(offsets, name).toEqual(want);
    }
  });
});

describe("across gateways sharing one backbone", () => {
  let nats: TestNats;
  const running: RunningGateway[] = [];
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    for (const g of running) await g.stop();
    await nats?.stop();
  });

  async function startGateway(): Promise<{ gateway: RunningGateway; api: Client }> {
    const config = loadConfig({ NATS_URL: nats.url, PORT: "0", STREAMGATE_LOG_LEVEL: "silent", STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    const gateway = await runGateway(config);
    running.push(gateway);
    const { port } = gateway.app.server.address() as AddressInfo;
    return { gateway, api: client(`http://127.0.0.1:${port}`) };
  }

  async function stopGateway(gateway: RunningGateway): Promise<void> {
    await gateway.stop();
    running.splice(running.indexOf(gateway), 1);
  }

  it("a restarted gateway resumes where delivery stood: nothing lost, nothing repeated", async () => {
    const r = await receiver();
    const a = await startGateway();
    const created = await a.api.postJson("/v1/webhooks", { url: r.url, stream: "orders", ...FAST });
    expect(created.status, created.text).toBe(201);
    const before = await publishShipped(a.api, 3);
    await r.waitForCount(3);
    await stopGateway(a.gateway);

    const b = await startGateway();
    const after = await publishShipped(b.api, 3);
    await r.waitForCount(6);
    await sleep(500);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual([...before, ...after].map((p) => p.offset));
    await b.api.send({ method: "DELETE", path: `/v1/webhooks/${created.body.id}` });
    await stopGateway(b.gateway);
  });

  it("two gateways at once deliver each event once, in order, one at a time with maxInFlight 1", async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 30 }));
    const a = await startGateway();
    const b = await startGateway();
    const created = await a.api.postJson("/v1/webhooks", { url: r.url, stream: "orders", ...FAST });
    expect(created.status, created.text).toBe(201);
    await sleep(300); // both dispatchers run a worker
    const published = [...(await publishShipped(a.api, 5)), ...(await publishShipped(b.api, 5))];
    await r.waitForCount(10);
    await sleep(500);
    expect(r.requests.map((q) => q.offset), r.summary()).toEqual(published.map((p) => p.offset));
    expect(r.maxOpen()).toBe(1);
    await a.api.send({ method: "DELETE", path: `/v1/webhooks/${created.body.id}` });
    await stopGateway(a.gateway);
    await stopGateway(b.gateway);
  });

  it("a stopping gateway finishes the attempt under way, and the next one does not send it again", async () => {
    const r = await receiver(() => ({ status: 200, delayMs: 1_000 }));
    const a = await startGateway();
    const created = await a.api.postJson("/v1/webhooks", { url: r.url, stream: "orders", ...FAST });
    expect(created.status, created.text).toBe(201);
    const [p] = await publishShipped(a.api, 1);
    await r.waitForCount(1);
    await stopGateway(a.gateway);
    const first = r.requests[0]!;
    expect(first.aborted, "the attempt under way was cut off by the shutdown").toBe(false);
    // Answered after the receiver's whole second (timers may fire a fraction of a millisecond early).
    expect(first.endT).toBeGreaterThanOrEqual(first.t + 999);

    const b = await startGateway();
    const [q] = await publishShipped(b.api, 1);
    await r.until(() => r.requests.some((y) => y.offset === q!.offset), "the next event", 10_000);
    await sleep(300);
    expect(r.requests.map((x) => x.offset), r.summary()).toEqual([p!.offset, q!.offset]);
    await b.api.send({ method: "DELETE", path: `/v1/webhooks/${created.body.id}` });
    await stopGateway(b.gateway);
  });
});
