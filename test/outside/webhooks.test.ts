// PROTOCOL.md section 6: webhook registration, signed delivery, retries, replay and gaps.
import { describe, expect, it } from "vitest";
import {
  RFC3339_UTC,
  envelopeAt,
  errorOf,
  header,
  poll,
  postJson,
  publish,
  purgeStream,
  request,
  shipped,
  sign,
  streamInfo,
  uniqueKey,
  waitFor,
  type Delivery,
  type JsonObject,
  useReceiver,
  useStack,
} from "./support.js";

const stack = useStack();
const receiver = useReceiver();
const hooks = () => `${stack().base}/v1/webhooks`;

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

async function createWebhook(body: JsonObject): Promise<JsonObject> {
  const reply = await postJson(hooks(), body);
  expect(reply.status, reply.text).toBe(201);
  return reply.json;
}

async function view(id: string): Promise<JsonObject> {
  const reply = await request(`${hooks()}/${id}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.json;
}

async function attempts(id: string): Promise<JsonObject[]> {
  const reply = await request(`${hooks()}/${id}/attempts?limit=50`);
  expect(reply.status, reply.text).toBe(200);
  return reply.json.attempts as JsonObject[];
}

/** Waits until the webhook's view satisfies `ready`. */
function viewWhen(id: string, ready: (webhook: JsonObject) => boolean, what: string): Promise<JsonObject> {
  return waitFor(async () => {
    const webhook = await view(id);
    return ready(webhook) ? webhook : undefined;
  }, what);
}

function counts(webhook: JsonObject): { delivered: number; failedAttempts: number; deadLetters: number; duplicates: number } {
  return webhook.counts as { delivered: number; failedAttempts: number; deadLetters: number; duplicates: number };
}

/** Checks the Standard Webhooks signature of a delivery against every secret given. */
function expectSigned(delivery: Delivery, ...secrets: string[]): void {
  const id = header(delivery, "webhook-id")!;
  const timestamp = header(delivery, "webhook-timestamp")!;
  expect(timestamp).toMatch(/^\d+$/);
  expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(120);
  const signatures = header(delivery, "webhook-signature")!.split(" ");
  expect(signatures.sort()).toEqual(secrets.map((secret) => sign(secret, id, timestamp, delivery.body)).sort());
}

describe("webhook registration (section 6)", () => {
  it("create is 201 with id and a whsec_ secret; views never show the secret", async () => {
    const path = `/reg-${uniqueKey("h")}`;
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key: uniqueKey("k"), description: "outside" });
    expect(typeof created.id).toBe("string");
    const secret = SECRET.exec(String(created.secret));
    expect(secret, String(created.secret)).not.toBeNull();
    const bytes = Buffer.from(secret![1]!, "base64");
    expect(bytes.length).toBeGreaterThanOrEqual(24);
    expect(bytes.length).toBeLessThanOrEqual(64);
    expect(bytes.toString("base64")).toBe(secret![1]);

    const webhook = await view(String(created.id));
    expect(webhook).not.toHaveProperty("secret");
    expect(webhook).toMatchObject({ id: created.id, url: receiver().url(path), stream: "orders", status: "active", position: expect.any(Number) });
    expect(counts(webhook)).toEqual({ delivered: 0, failedAttempts: 0, deadLetters: 0, duplicates: 0 });
    expect(webhook.position).toBe((await streamInfo(stack().base, "orders")).last_offset + 1);

    const list = await request(hooks());
    expect(list.status).toBe(200);
    const listed = (list.json.webhooks as JsonObject[]).find((entry) => entry.id === created.id);
    expect(listed).toMatchObject({ id: created.id, status: "active" });
    expect(listed).not.toHaveProperty("secret");
    expect(list.text).not.toContain(String(created.secret));

    await publish(stack().base, "orders", shipped(uniqueKey("last"), 1));
    const last = await createWebhook({ url: receiver().url(path), stream: "orders", last: 1, paused: true });
    expect(last.position).toBe((await streamInfo(stack().base, "orders")).last_offset);
  });

  it("refuses bad registrations with the error body", async () => {
    const url = receiver().url("/never");
    const cases: Array<[JsonObject, number]> = [
      [{ url: "http://10.1.2.3/hook", stream: "orders" }, 400],
      [{ url: "http://169.254.169.254/latest", stream: "orders" }, 400],
      [{ url: "not a url", stream: "orders" }, 400],
      [{ stream: "orders" }, 400],
      [{ url, stream: "orders", from: 1, last: 2 }, 400],
      [{ url, stream: "orders", format: "xml" }, 400],
      [{ url, stream: "nope" }, 404],
    ];
    for (const [body, status] of cases) {
      const reply = await postJson(hooks(), body);
      expect({ body, status: reply.status }).toEqual({ body, status });
      errorOf(reply);
    }
    expect((await request(`${hooks()}/wh_does_not_exist`)).status).toBe(404);
    const created = await createWebhook({ url, stream: "orders", paused: true });
    const patched = await request(`${hooks()}/${String(created.id)}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "http://192.168.1.1/hook" }),
    });
    expect(patched.status).toBe(400);
    errorOf(patched);
    expect((await view(String(created.id))).url).toBe(url);
  });

  it("PATCH pauses and resumes, DELETE removes", async () => {
    const path = `/patch-${uniqueKey("h")}`;
    const key = uniqueKey("patch");
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, paused: true });
    const id = String(created.id);
    expect((await view(id)).status).toBe("paused");
    const { offset } = await publish(stack().base, "orders", shipped(key, 1));
    const patched = await request(`${hooks()}/${id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: '{"paused":false}' });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id, status: "active" });
    const delivery = await receiver().deliveries(path).take("delivery after resume");
    expect(header(delivery, "streamgate-offset")).toBe(String(offset));
    expect(receiver().deliveries(path).pending).toEqual([]);

    const deleted = await request(`${hooks()}/${id}`, { method: "DELETE" });
    expect(deleted.status).toBeLessThan(300);
    expect((await request(`${hooks()}/${id}`)).status).toBe(404);
  });
});

describe("webhook delivery (section 6)", () => {
  it("POSTs the envelope, signed, with streamgate-* headers, in offset order; the attempts log records it", async () => {
    const path = `/deliver-${uniqueKey("h")}`;
    const key = uniqueKey("dl");
    const first = await publish(stack().base, "orders", shipped(key, 1), { "idempotency-key": `${key}-1` });
    const second = await publish(stack().base, "orders", shipped(key, 2));
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, from: "first" });
    const deliveries = [await receiver().deliveries(path).take("first"), await receiver().deliveries(path).take("second")];

    for (const [n, { offset, id }] of [first, second].entries()) {
      const delivery = deliveries[n]!;
      expect(delivery.method).toBe("POST");
      expect(header(delivery, "content-type")).toMatch(/^application\/json/);
      expect(header(delivery, "webhook-id")).toBe(id);
      expect(header(delivery, "streamgate-stream")).toBe("orders");
      expect(header(delivery, "streamgate-offset")).toBe(String(offset));
      expect(header(delivery, "streamgate-attempt")).toBe("1");
      expect(JSON.parse(delivery.body)).toEqual(await envelopeAt(stack().base, "orders", offset));
      expectSigned(delivery, String(created.secret));
    }
    expect(header(deliveries[0]!, "webhook-id")).toBe(`${key}-1`);

    const webhook = await viewWhen(String(created.id), (hook) => counts(hook).delivered === 2, "two delivered");
    expect(webhook.position).toBe(second.offset + 1);
    const log = await attempts(String(created.id));
    expect(log).toEqual([
      expect.objectContaining({ offset: second.offset, eventId: second.id, attempt: 1, status: 200, durationMs: expect.any(Number) }),
      expect.objectContaining({ offset: first.offset, eventId: first.id, attempt: 1, status: 200 }),
    ]);
    for (const entry of log) expect(entry.at).toMatch(RFC3339_UTC);
  });

  it("signs with a secret given at create", async () => {
    const path = `/given-${uniqueKey("h")}`;
    const key = uniqueKey("given");
    const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, secret });
    await publish(stack().base, "orders", shipped(key, 1));
    expectSigned(await receiver().deliveries(path).take("delivery"), secret);
    expect(await view(String(created.id))).not.toHaveProperty("secret");
  });

  it("retries after a 500 with the same webhook-id and the next attempt number", async () => {
    const path = `/retry-${uniqueKey("h")}`;
    const key = uniqueKey("retry");
    receiver().answer(path, (_delivery, count) => (count === 1 ? { status: 500, body: `boom${"x".repeat(2000)}` } : { status: 200 }));
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, retrySchedule: ["1s"] });
    const event = await publish(stack().base, "orders", shipped(key, 1));
    const [failed, retried] = [await receiver().deliveries(path).take("first attempt"), await receiver().deliveries(path).take("retry", 15_000)];
    expect([header(failed, "webhook-id"), header(retried, "webhook-id")]).toEqual([event.id, event.id]);
    expect([header(failed, "streamgate-attempt"), header(retried, "streamgate-attempt")]).toEqual(["1", "2"]);
    expect(retried.body).toBe(failed.body);
    expectSigned(retried, String(created.secret));

    const webhook = await viewWhen(String(created.id), (hook) => counts(hook).delivered === 1, "delivered after retry");
    expect(counts(webhook)).toEqual({ delivered: 1, failedAttempts: 1, deadLetters: 0, duplicates: 0 });
    expect(webhook.lastError).toBeDefined();
    const log = await attempts(String(created.id));
    expect(log.map((entry) => [entry.attempt, entry.status])).toEqual([
      [2, 200],
      [1, 500],
    ]);
    const newest = await request(`${hooks()}/${String(created.id)}/attempts?limit=1`);
    expect((newest.json.attempts as JsonObject[]).map((entry) => entry.attempt)).toEqual([2]);
    const response = log[1]!.response;
    expect(typeof response).toBe("string");
    expect(String(response).startsWith("boom")).toBe(true);
    expect(Buffer.byteLength(String(response))).toBeLessThanOrEqual(1024);
  });

  it("honours Retry-After on a 429", async () => {
    const path = `/limited-${uniqueKey("h")}`;
    const key = uniqueKey("429");
    receiver().answer(path, (_delivery, count) => (count === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
    await createWebhook({ url: receiver().url(path), stream: "orders", key, retrySchedule: ["1h"] });
    await publish(stack().base, "orders", shipped(key, 1));
    await receiver().deliveries(path).take("first attempt");
    const retried = await receiver().deliveries(path).take("retry after Retry-After, not after 1h", 15_000);
    expect(header(retried, "streamgate-attempt")).toBe("2");
  });

  it("does not follow a redirect: it is a failed attempt", async () => {
    const path = `/redirect-${uniqueKey("h")}`;
    const target = `/target-${uniqueKey("h")}`;
    receiver().answer(path, () => ({ status: 302, headers: { location: receiver().url(target) } }));
    const key = uniqueKey("302");
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, retrySchedule: ["1h"] });
    await publish(stack().base, "orders", shipped(key, 1));
    await receiver().deliveries(path).take("redirected attempt");
    const webhook = await viewWhen(String(created.id), (hook) => counts(hook).failedAttempts === 1, "a failed attempt");
    expect(counts(webhook).delivered).toBe(0);
    expect((await attempts(String(created.id)))[0]).toMatchObject({ attempt: 1, status: 302 });
    expect(receiver().deliveries(target).pending).toEqual([]);
  });

  it("a 410 disables the webhook", async () => {
    const path = `/gone-${uniqueKey("h")}`;
    const key = uniqueKey("410");
    receiver().answer(path, () => ({ status: 410 }));
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key });
    await publish(stack().base, "orders", shipped(key, 1));
    await receiver().deliveries(path).take("the attempt answered 410");
    const webhook = await viewWhen(String(created.id), (hook) => hook.status === "disabled", "disabled");
    expect(webhook.status).toBe("disabled");
  });

  it("an event that runs out of retries becomes a dead letter, delivery goes on, and it can be redelivered", async () => {
    const path = `/dead-${uniqueKey("h")}`;
    const key = uniqueKey("dead");
    const doomed = await publish(stack().base, "orders", shipped(key, 1));
    let healed = false;
    receiver().answer(path, (delivery) => (header(delivery, "webhook-id") === doomed.id && !healed ? { status: 500 } : { status: 200 }));
    const next = await publish(stack().base, "orders", shipped(key, 2));
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, from: doomed.offset, retrySchedule: ["1s"] });
    const id = String(created.id);
    const webhook = await viewWhen(id, (hook) => counts(hook).deadLetters === 1 && counts(hook).delivered === 1, "a dead letter, then the next delivered", );
    expect(counts(webhook)).toEqual({ delivered: 1, failedAttempts: 2, deadLetters: 1, duplicates: 0 });
    const dead = await request(`${hooks()}/${id}/dead-letters`);
    expect(dead.status).toBe(200);
    expect(dead.json.deadLetters).toEqual([expect.objectContaining({ offset: doomed.offset, eventId: doomed.id })]);
    const delivered = receiver().deliveries(path).pending.map((delivery) => header(delivery, "webhook-id"));
    expect(delivered).toEqual([doomed.id, doomed.id, next.id]);

    healed = true;
    const redeliver = await postJson(`${hooks()}/${id}/dead-letters/redeliver`, {});
    expect(redeliver.status).toBeLessThan(300);
    await waitFor(async () => (counts(await view(id)).delivered === 2 ? true : undefined), "redelivered dead letter");
    expect((await request(`${hooks()}/${id}/dead-letters`)).json.deadLetters).toEqual([]);
  });

  it("CloudEvents binary mode: body = data, attributes in ce-* headers", async () => {
    const path = `/ce-${uniqueKey("h")}`;
    const key = uniqueKey("ce");
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key, format: "cloudevents" });
    const { offset, id } = await publish(stack().base, "orders", shipped(key, 1));
    const delivery = await receiver().deliveries(path).take("cloudevent");
    const envelope = await envelopeAt(stack().base, "orders", offset);
    expect(JSON.parse(delivery.body)).toEqual(envelope.data);
    expect(header(delivery, "content-type")).toMatch(/^application\/json/);
    expect({
      id: header(delivery, "ce-id"),
      type: header(delivery, "ce-type"),
      source: header(delivery, "ce-source"),
      specversion: header(delivery, "ce-specversion"),
      subject: header(delivery, "ce-subject"),
    }).toEqual({ id, type: "demo.orders.v1.OrderShipped", source: "/streams/orders", specversion: "1.0", subject: key });
    expect(Date.parse(header(delivery, "ce-time")!)).toBe(Date.parse(String(envelope.time)));
    expect(header(delivery, "webhook-id")).toBe(id);
    expectSigned(delivery, String(created.secret));
  });

  it("replay restarts delivery at a position, with the same webhook-id", async () => {
    const path = `/replay-${uniqueKey("h")}`;
    const key = uniqueKey("replay");
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key });
    const events = [await publish(stack().base, "orders", shipped(key, 1)), await publish(stack().base, "orders", shipped(key, 2))];
    const firstRound = [await receiver().deliveries(path).take("1"), await receiver().deliveries(path).take("2")];
    const replay = await postJson(`${hooks()}/${String(created.id)}/replay`, { from: events[0]!.offset });
    expect(replay.status).toBeLessThan(300);
    expect(replay.json).not.toHaveProperty("gap");
    const again = [await receiver().deliveries(path).take("replayed 1"), await receiver().deliveries(path).take("replayed 2")];
    expect(again.map((delivery) => header(delivery, "webhook-id"))).toEqual(events.map((event) => event.id));
    expect(again.map((delivery) => delivery.body)).toEqual(firstRound.map((delivery) => delivery.body));

    const badReplay = await postJson(`${hooks()}/${String(created.id)}/replay`, { from: 1, last: 1 });
    expect(badReplay.status).toBe(400);
    errorOf(badReplay);
  });

  it("rotate-secret gives a new secret, and both sign for a while", async () => {
    const path = `/rotate-${uniqueKey("h")}`;
    const key = uniqueKey("rot");
    const created = await createWebhook({ url: receiver().url(path), stream: "orders", key });
    await publish(stack().base, "orders", shipped(key, 1));
    expectSigned(await receiver().deliveries(path).take("before rotation"), String(created.secret));

    const rotated = await postJson(`${hooks()}/${String(created.id)}/rotate-secret`, {});
    expect(rotated.status).toBeLessThan(300);
    expect(String(rotated.json.secret)).toMatch(SECRET);
    expect(rotated.json.secret).not.toBe(created.secret);
    await publish(stack().base, "orders", shipped(key, 2));
    const delivery = await receiver().deliveries(path).take("after rotation");
    expect(header(delivery, "webhook-signature")!.split(" ")).toHaveLength(2);
    expectSigned(delivery, String(created.secret), String(rotated.json.secret));
  });
});

describe("webhook gaps (section 6)", () => {
  it("created below the oldest retained event: gap in the create answer, lastGap in the view, a gap entry in attempts", async () => {
    const path = `/gap-${uniqueKey("h")}`;
    const name = uniqueKey("gapm");
    await publish(stack().base, "metrics", { data: { name, value: 1 } });
    await purgeStream(stack().nats.url, "metrics");
    const oldest = await publish(stack().base, "metrics", { data: { name, value: 2 } });
    const info = await streamInfo(stack().base, "metrics");
    const notice = { stream: "metrics", requested: 1, first: oldest.offset, epoch: info.epoch };

    const created = await createWebhook({ url: receiver().url(path), stream: "metrics", from: 1 });
    expect(created.gap).toEqual(notice);
    const delivery = await receiver().deliveries(path).take("oldest retained");
    expect(header(delivery, "streamgate-offset")).toBe(String(oldest.offset));

    const id = String(created.id);
    const webhook = await viewWhen(id, (hook) => counts(hook).delivered === 1, "delivered");
    expect(webhook.lastGap).toMatchObject(notice);
    const log = await attempts(id);
    const gaps = log.filter((entry) => entry.kind === "gap");
    expect(gaps).toEqual([{ kind: "gap", ...notice, at: expect.stringMatching(RFC3339_UTC) }]);
    expect(log.indexOf(gaps[0]!)).toBe(log.length - 1);

    const replay = await postJson(`${hooks()}/${id}/replay`, { from: 1 });
    expect(replay.status).toBeLessThan(300);
    expect(replay.json.gap).toEqual(notice);
    await receiver().deliveries(path).take("replayed oldest");
    await waitFor(async () => ((await attempts(id)).filter((entry) => entry.kind === "gap").length === 2 ? true : undefined), "second gap entry");
  });
});
