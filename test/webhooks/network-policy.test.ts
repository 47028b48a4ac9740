/**
 * Where webhooks may go (PROTOCOL.md section 6): loopback, private, link-local, multicast,
 * reserved and metadata addresses (IPv4, IPv6, IPv4-mapped IPv6) are refused at registration
 * and at connect time unless STREAMGATE_WEBHOOK_ALLOWED_NETWORKS allows them.
 * Nothing here resolves a public name or dials anything but 127.0.0.1.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { EncodedEvent } from "../../src/fanout/encoded-event.js";
import { runGateway, type RunningGateway } from "../../src/app.js";
import { loadSchemas } from "../../src/schema/registry.js";
import { Deliverer } from "../../src/webhooks/delivery.js";
import { WebhookEvent } from "../../src/webhooks/payload.js";
import { ForbiddenTargetError, NetworkPolicy } from "../../src/net/network-policy.js";
import type { Webhook } from "../../src/webhooks/registration.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { client, expectError, type Client } from "../support/http.js";
import { startTestNats } from "../support/nats.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import { sleep } from "../support/wait.js";
import { Hooks, publishShipped } from "../support/webhooks.js";

/**
 * Refused by address: each must say the target is not allowed and give the class of address,
 * and nothing else (never an address the gateway resolved).
 */
const REFUSED_ADDRESSES: [name: string, url: string, reason: string][] = [
  ["IPv4 loopback", "http://127.0.0.1:9/hook", "loopback"],
  ["IPv4 loopback, not .1", "http://127.45.6.7/hook", "loopback"],
  ["IPv4 loopback, https", "https://127.0.0.1/hook", "loopback"],
  ["IPv4 loopback written as one number", "http://2130706433/hook", "loopback"],
  ["IPv4 loopback written in hex", "http://0x7f.1/hook", "loopback"],
  ["IPv4 loopback written short", "http://127.1/hook", "loopback"],
  ["private 10/8", "http://10.0.0.1/hook", "private"],
  ["private 172.16/12", "http://172.16.0.1/hook", "private"],
  ["private 172.31/12 (top of the range)", "http://172.31.255.254/hook", "private"],
  ["private 192.168/16", "http://192.168.1.1/hook", "private"],
  ["cloud metadata 169.254.169.254", "http://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"],
  ["shared address space 100.64/10", "http://100.64.0.1/hook", "shared address space (carrier-grade NAT, some metadata services)"],
  ["this network 0.0.0.0", "http://0.0.0.0/hook", "this network"],
  ["multicast 224.0.0.1", "http://224.0.0.1/hook", "multicast"],
  ["reserved 240.0.0.1", "http://240.0.0.1/hook", "reserved"],
  ["broadcast 255.255.255.255", "http://255.255.255.255/hook", "reserved"],
  ["benchmarking 198.18/15", "http://198.18.0.1/hook", "benchmarking"],
  ["IPv6 loopback [::1]", "http://[::1]:9/hook", "loopback"],
  ["IPv6 unspecified [::]", "http://[::]/hook", "unspecified"],
  ["IPv6 link-local [fe80::1]", "http://[fe80::1]/hook", "link-local"],
  ["IPv6 unique local [fc00::1]", "http://[fc00::1]/hook", "unique local (private, cloud metadata)"],
  ["AWS IPv6 metadata [fd00:ec2::254]", "http://[fd00:ec2::254]/hook", "unique local (private, cloud metadata)"],
  ["IPv6 multicast [ff02::1]", "http://[ff02::1]/hook", "multicast"],
  ["IPv4-mapped loopback [::ffff:127.0.0.1]", "http://[::ffff:127.0.0.1]/hook", "loopback (in IPv4-mapped form)"],
  ["IPv4-mapped loopback in hex [::ffff:7f00:1]", "http://[::ffff:7f00:1]/hook", "loopback (in IPv4-mapped form)"],
  ["IPv4-mapped loopback, long form", "http://[0:0:0:0:0:ffff:127.0.0.1]/hook", "loopback (in IPv4-mapped form)"],
  ["IPv4-mapped private [::ffff:10.0.0.1]", "http://[::ffff:10.0.0.1]/hook", "private (in IPv4-mapped form)"],
  ["IPv4-mapped metadata [::ffff:a9fe:a9fe]", "http://[::ffff:a9fe:a9fe]/hook", "link-local (cloud metadata) (in IPv4-mapped form)"],
  ["NAT64 of loopback [64:ff9b::7f00:1]", "http://[64:ff9b::7f00:1]/hook", "loopback (in NAT64 form)"],
  ["localhost (a name resolving to loopback)", "http://localhost:9/hook", "loopback"],
  ["IPv4-compatible loopback [::127.0.0.1]", "http://[::127.0.0.1]:9/hook", "loopback (in IPv4-compatible form)"],
  ["IPv4-compatible private in hex [::a00:1]", "http://[::a00:1]/hook", "private (in IPv4-compatible form)"],
  ["IPv4-compatible public [::8.8.8.8]", "http://[::8.8.8.8]/hook", "IPv4-compatible (deprecated)"],
  ["IPv4-translated loopback [::ffff:0:127.0.0.1]", "http://[::ffff:0:127.0.0.1]:9/hook", "loopback (in IPv4-translated form)"],
  ["IPv4-translated metadata in hex [::ffff:0:a9fe:a9fe]", "http://[::ffff:0:a9fe:a9fe]/hook", "link-local (cloud metadata) (in IPv4-translated form)"],
  ["NAT64 of private [64:ff9b::10.0.0.1]", "http://[64:ff9b::10.0.0.1]/hook", "private (in NAT64 form)"],
  ["6to4 of loopback [2002:7f00:1::1]", "http://[2002:7f00:1::1]/hook", "loopback (in 6to4 form)"],
  ["6to4 of metadata [2002:a9fe:a9fe::]", "http://[2002:a9fe:a9fe::]/hook", "link-local (cloud metadata) (in 6to4 form)"],
  ["6to4 of a public address [2002:808:808::1]", "http://[2002:808:808::1]/hook", "6to4"],
];

/** Refused by form: scheme, syntax, credentials. */
const REFUSED_FORMS: [string, string][] = [
  ["ftp://", "ftp://127.0.0.1/hook"],
  ["file://", "file:///etc/passwd"],
  ["javascript:", "javascript:alert(1)"],
  ["data:", "data:text/plain,hello"],
  ["ws://", "ws://127.0.0.1/hook"],
  ["gopher://", "gopher://127.0.0.1:70/"],
  ["not a url", "not a url"],
  ["a relative path", "/v1/streams"],
  ["no host", "http://"],
  ["user:pass@ credentials", "http://user:pass@127.0.0.1/hook"],
  ["user@ credentials", "http://user@127.0.0.1/hook"],
];

describe("with the allow-list off (the default)", () => {
  let gw: TestGateway;
  let api: Client;
  beforeAll(async () => {
    gw = await startTestGateway();
    api = client(gw.url);
  });
  afterAll(async () => gw?.close());

  it.each(REFUSED_ADDRESSES)("refuses %s at registration: 400 invalid_argument naming the class of address", async (_name, url, reason) => {
    const res = await api.postJson("/v1/webhooks", { url, stream: "orders" });
    expectError(res, 400, "invalid_argument", url);
    expect(res.body.error.message).toBe(`${new URL(url).hostname} is not an allowed webhook target: ${reason}`);
  });

  it("does not echo what the gateway's resolver answered for a name", async () => {
    const res = await api.postJson("/v1/webhooks", { url: "http://localhost:9/hook", stream: "orders" });
    expectError(res, 400, "invalid_argument", "localhost");
    expect(res.body.error.message).toBe("localhost is not an allowed webhook target: loopback");
    for (const { address } of await dnsLookup("localhost", { all: true })) expect(res.text).not.toContain(address);
  });

  it.each(REFUSED_FORMS)("refuses %s at registration: 400 invalid_argument", async (_name, url) => {
    const res = await api.postJson("/v1/webhooks", { url, stream: "orders" });
    expectError(res, 400, "invalid_argument", url);
  });

  it("registered nothing", async () => {
    const res = await api.get("/v1/webhooks");
    expect(res.status).toBe(200);
    expect(res.body.webhooks).toEqual([]);
  });
});

describe("with STREAMGATE_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8", () => {
  let gw: TestGateway;
  let api: Client;
  let hooks: Hooks;
  let receiver: Receiver;
  beforeAll(async () => {
    gw = await startTestGateway({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
    api = client(gw.url);
    hooks = new Hooks(api);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await hooks?.cleanup();
    await receiver?.close();
    await gw?.close();
  });

  it("accepts the loopback receiver, which then gets deliveries", async () => {
    const hook = await hooks.create({ url: receiver.url, stream: "orders", retrySchedule: ["100ms"], timeoutMs: 2_000 });
    const [p] = await publishShipped(api, 1);
    await receiver.waitForCount(1);
    expect(receiver.requests[0]!.offset).toBe(p!.offset);
    expect(receiver.requests[0]!.webhookId).toBe(p!.id);
    expect(hook.url).toBe(receiver.url);
  });

  it("still refuses everything outside the allowed range", async () => {
    for (const [, url] of REFUSED_ADDRESSES) {
      if (/\/\/(127\.|2130706433|0x7f|\[::ffff:127|\[::ffff:7f00|\[0:0:0:0:0:ffff:127|localhost)/.test(url)) continue;
      const res = await api.postJson("/v1/webhooks", { url, stream: "orders", paused: true });
      if (res.status === 201) hooks.ids.push(res.body.id);
      expectError(res, 400, "invalid_argument", url);
    }
    for (const [, url] of REFUSED_FORMS) {
      const res = await api.postJson("/v1/webhooks", { url, stream: "orders", paused: true });
      if (res.status === 201) hooks.ids.push(res.body.id);
      expectError(res, 400, "invalid_argument", url);
    }
  });

  it("accepts a name when every address it resolves to is allowed", async () => {
    const addresses = (await dnsLookup("localhost", { all: true })).map((a) => a.address);
    const res = await api.postJson("/v1/webhooks", { url: `http://localhost:${receiver.port}/hook`, stream: "orders", paused: true });
    if (res.status === 201) hooks.ids.push(res.body.id);
    if (addresses.every((a) => a.startsWith("127."))) expect(res.status, res.text).toBe(201);
    else expectError(res, 400, "invalid_argument", `localhost resolves to ${addresses.join(", ")}`);
  });

  it("checks a PATCHed url the same way and keeps the old one when refused", async () => {
    const hook = await hooks.create({ url: receiver.url, stream: "orders", paused: true });
    for (const url of ["http://10.0.0.1/hook", "http://[::1]:9/hook", "http://169.254.169.254/", "ftp://127.0.0.1/", "http://u:p@127.0.0.1/"]) {
      const res = await hooks.patch(hook.id, { url });
      expectError(res, 400, "invalid_argument", `PATCH url ${url}`);
    }
    expect((await hooks.get(hook.id)).url).toBe(receiver.url);
    const moved = await hooks.patch(hook.id, { url: `http://127.0.0.2:${receiver.port}/other` });
    expect(moved.status, moved.text).toBe(200);
  });
});

describe("at connect time", () => {
  it("a gateway without the allow-list refuses to dial a loopback webhook registered through one with it", async () => {
    const nats = await startTestNats();
    const receiver = await startReceiver();
    const start = async (env: NodeJS.ProcessEnv): Promise<{ gateway: RunningGateway; api: Client }> => {
      const gateway = await runGateway(loadConfig({ NATS_URL: nats.url, PORT: "0", STREAMGATE_LOG_LEVEL: "silent", ...env }));
      const { port } = gateway.app.server.address() as AddressInfo;
      return { gateway, api: client(`http://127.0.0.1:${port}`) };
    };
    let b: { gateway: RunningGateway; api: Client } | undefined;
    try {
      const a = await start({ STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8" });
      const created = await a.api.postJson("/v1/webhooks", {
        url: receiver.url,
        stream: "orders",
        retrySchedule: ["100ms", "100ms"],
        timeoutMs: 1_000,
      });
      expect(created.status, created.text).toBe(201);
      const id = created.body.id;
      await a.gateway.stop();

      b = await start({});
      const [p] = await publishShipped(b.api, 1);
      const hooks = new Hooks(b.api);
      let letters: any[] = [];
      await expect.poll(async () => (letters = await hooks.deadLetters(id)).length, { timeout: 10_000 }).toBe(1);
      expect(letters[0]).toMatchObject({ offset: p!.offset, attempts: 3 });
      expect(letters[0].lastError).toBe("127.0.0.1 is not an allowed webhook target: loopback");
      const log = await hooks.attempts(id);
      expect(log).toHaveLength(3);
      for (const attempt of log) {
        expect(attempt.status).toBeUndefined();
        expect(attempt.error).toBe("127.0.0.1 is not an allowed webhook target: loopback");
      }
      await sleep(200);
      expect(receiver.requests, receiver.summary()).toHaveLength(0);
    } finally {
      await b?.gateway.stop();
      await receiver.close();
      await nats.stop();
    }
  });

  const webhook = (url: string): Webhook => ({
    id: "wh_000000000000000000000001",
    url,
    stream: "orders",
    headers: {},
    format: "envelope",
    maxInFlight: 1,
    retrySchedule: ["100ms"],
    timeoutMs: 2_000,
    status: "active",
    secrets: [{ secret: "whsec_" + Buffer.alloc(32, 1).toString("base64") }],
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    generation: 1,
  });

  const event = async () =>
    new WebhookEvent(
      new EncodedEvent(
        { stream: "orders", offset: 7, id: "evt-7", type: "demo.orders.v1.OrderShipped", key: "k-7", time: new Date(), data: new Uint8Array() },
        await loadSchemas(),
      ),
    );

  const lookupWith = (policy: NetworkPolicy, options: { all?: boolean } = {}, hostname = "localhost") =>
    new Promise<{ err: Error | null; address: unknown }>((resolve) =>
      policy.lookup(hostname, options as never, ((err: Error | null, address: unknown) => resolve({ err, address })) as never),
    );

  it("NetworkPolicy.lookup refuses a name that resolves to loopback unless the allow-list opens it", async () => {
    const refused = await lookupWith(new NetworkPolicy(""));
    expect(refused.err).toBeInstanceOf(ForbiddenTargetError);
    expect(refused.err?.message).toBe("localhost is not an allowed webhook target: loopback");
    expect((refused.err as { code?: string }).code).toBe("invalid_argument");

    const allowed = await lookupWith(new NetworkPolicy("127.0.0.0/8,::1/128"));
    expect(allowed.err).toBeNull();
    expect(String(allowed.address)).toMatch(/^(127\.|::1)/);
    const all = await lookupWith(new NetworkPolicy("127.0.0.0/8,::1/128"), { all: true });
    expect(all.err).toBeNull();
    expect(Array.isArray(all.address)).toBe(true);
  });

  it("NetworkPolicy.lookup refuses, at connect time, the embedded-IPv4 forms an answer can take", async () => {
    const policy = new NetworkPolicy("127.0.0.0/8");
    // dns.lookup answers an address with itself: the answer a resolver could give for a name.
    for (const [answer, reason] of [
      ["::7f00:1", "IPv4-compatible (deprecated)"],
      ["::ffff:0:7f00:1", "IPv4-translated"],
      ["64:ff9b::a00:1", "private (in NAT64 form)"],
      ["2002:a9fe:a9fe::1", "link-local (cloud metadata) (in 6to4 form)"],
    ]) {
      const { err } = await lookupWith(policy, {}, answer);
      expect(err, answer).toBeInstanceOf(ForbiddenTargetError);
      expect(err?.message).toBe(`${answer} is not an allowed webhook target: ${reason}`);
    }
    expect((await lookupWith(policy, {}, "::ffff:7f00:1")).err).toBeNull();
  });

  it("NetworkPolicy.problem names the class of every refused address and none of the allowed ones", () => {
    const policy = new NetworkPolicy("");
    const refused: [string, string][] = [
      ["127.0.0.1", "loopback"],
      ["10.1.2.3", "private"],
      ["172.20.0.1", "private"],
      ["192.168.0.1", "private"],
      ["169.254.169.254", "link-local (cloud metadata)"],
      ["100.64.0.1", "shared address space (carrier-grade NAT, some metadata services)"],
      ["0.0.0.0", "this network"],
      ["224.0.0.1", "multicast"],
      ["240.0.0.1", "reserved"],
      ["::1", "loopback"],
      ["::", "unspecified"],
      ["::2", "this network (in IPv4-compatible form)"],
      ["fe80::1", "link-local"],
      ["fc00::1", "unique local (private, cloud metadata)"],
      ["fd00:ec2::254", "unique local (private, cloud metadata)"],
      ["ff02::1", "multicast"],
      ["::ffff:127.0.0.1", "loopback (in IPv4-mapped form)"],
      ["::ffff:7f00:1", "loopback (in IPv4-mapped form)"],
      ["::ffff:10.0.0.1", "private (in IPv4-mapped form)"],
      ["::127.0.0.1", "loopback (in IPv4-compatible form)"],
      ["::7f00:1", "loopback (in IPv4-compatible form)"],
      ["0:0:0:0:0:0:7f00:1", "loopback (in IPv4-compatible form)"],
      ["::ffff:0:127.0.0.1", "loopback (in IPv4-translated form)"],
      ["::ffff:0:c0a8:1", "private (in IPv4-translated form)"],
      ["::ffff:0:8.8.8.8", "IPv4-translated"],
      ["64:ff9b::192.168.0.1", "private (in NAT64 form)"],
      ["64:ff9b::808:808", "IPv4/IPv6 translation"],
      ["2002:0a00:0001::", "private (in 6to4 form)"],
      ["2002:7f00:1:ffff:ffff:ffff:ffff:ffff", "loopback (in 6to4 form)"],
      ["2002:808:808::", "6to4"],
    ];
    for (const [address, reason] of refused) expect(policy.problem(address), address).toBe(reason);
    for (const address of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "172.32.0.1", "100.128.0.1", "11.0.0.1", "::ffff:8.8.8.8", "2a00:1450:4001::200e"]) {
      expect(policy.problem(address), address).toBeUndefined();
    }
    const open = new NetworkPolicy("127.0.0.0/8, 10.0.0.0/8");
    expect(open.problem("127.0.0.1")).toBeUndefined();
    expect(open.problem("10.9.9.9")).toBeUndefined();
    expect(open.problem("::ffff:127.0.0.1")).toBeUndefined();
    expect(open.problem("192.168.0.1")).toBeTruthy();
    expect(() => new NetworkPolicy("not-a-cidr")).toThrow(/not a CIDR/);
    expect(() => new NetworkPolicy("10.0.0.0/33")).toThrow(/not a CIDR/);
  });

  it("a Deliverer's attempt to http://localhost:<port> fails before any request when the policy refuses it", async () => {
    const receiver = await startReceiver();
    const refusing = new Deliverer(new NetworkPolicy(""));
    const allowing = new Deliverer(new NetworkPolicy("127.0.0.0/8"));
    try {
      const url = `http://localhost:${receiver.port}/hook`;
      const refused = await refusing.to(webhook(url)).attempt(await event(), 1);
      expect(refused.kind).toBe("failed");
      expect(refused.status).toBeUndefined();
      expect(refused.kind === "failed" && refused.error).toMatch(/not an allowed webhook target/);
      // An IP literal is refused without a lookup at all.
      const literal = await refusing.to(webhook(`http://127.0.0.1:${receiver.port}/hook`)).attempt(await event(), 1);
      expect(literal.kind === "failed" && literal.error).toBe("127.0.0.1 is not an allowed webhook target: loopback");
      for (const host of ["[::ffff:127.0.0.1]", "[::127.0.0.1]", "[::ffff:0:127.0.0.1]"]) {
        const embedded = await refusing.to(webhook(`http://${host}:${receiver.port}/hook`)).attempt(await event(), 1);
        expect(embedded.kind === "failed" && embedded.error, host).toMatch(/is not an allowed webhook target: loopback \(in IPv4-\w+ form\)$/);
      }
      await sleep(100);
      expect(receiver.requests, receiver.summary()).toHaveLength(0);

      // The same target with the range allowed: delivered.
      const delivered = await allowing.to(webhook(`http://127.0.0.1:${receiver.port}/hook`)).attempt(await event(), 1);
      expect(delivered).toMatchObject({ kind: "delivered", status: 204 });
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.webhookId).toBe("evt-7");
    } finally {
      await refusing.close();
      await allowing.close();
      await receiver.close();
    }
  });
});
