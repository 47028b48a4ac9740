import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orders, type OrdersEvent, type OrdersEventInit } from "../../generated/streams/index.js";
import { connectBackbone } from "../../src/backbone/connection.js";
import { InvalidEventError } from "../../src/backbone/publish.js";
import { consume } from "../../src/typed/consumer.js";
import { createProducer } from "../../src/typed/producer.js";
import { startTestBackbone, type TestBackbone } from "../support/backbone.js";
import { take } from "../support/collect.js";
import { consumerNames, LiveRead, waitForNewConsumer } from "../support/live-read.js";

let backbone: TestBackbone;
beforeAll(async () => {
  backbone = await startTestBackbone();
});
afterAll(async () => backbone?.close());

type OrderType = OrdersEvent["type"];
const CREATED = "demo.orders.v1.OrderCreated";
const SHIPPED = "demo.orders.v1.OrderShipped";
const CANCELLED = "demo.orders.v1.OrderCancelled";
const TYPES: OrderType[] = [CREATED, SHIPPED, CANCELLED];

interface Published {
  offset: number;
  type: OrderType;
  key: string | undefined;
}

function orderEvent(type: OrderType, orderId: string): OrdersEventInit {
  return { type, data: { orderId } } as OrdersEventInit;
}

/** Publishes one event of every type for every key (keys in turn), plus one keyless event of each type. */
async function publishMix(keys: readonly string[]): Promise<Published[]> {
  const producer = createProducer(backbone.js, orders);
  const published: Published[] = [];
  for (const type of TYPES) {
    for (const key of [...keys, ""]) {
      const { offset } = await producer.publish(orderEvent(type, key));
      published.push({ offset, type, key: key === "" ? undefined : key });
    }
  }
  return published;
}

async function publishOne(type: OrderType, key: string): Promise<Published> {
  const { offset } = await createProducer(backbone.js, orders).publish(orderEvent(type, key));
  return { offset, type, key };
}

const summary = (e: Published | OrdersEvent): Published => ({ offset: e.offset, type: e.type, key: e.key });

interface Filter {
  types?: OrderType[];
  key?: string;
}

function matches(filter: Filter, event: Published): boolean {
  return (!filter.types || filter.types.includes(event.type)) && (filter.key === undefined || event.key === filter.key);
}

/**
 * Reads `published` from its first offset through `filter` and checks it gets exactly the
 * matching events. A matching sentinel is stored last first, so a non-matching event that
 * leaked through would show up inside the list taken, never after it.
 */
async function expectFiltered(published: Published[], filter: Filter, sentinel: Published): Promise<void> {
  published.push(sentinel);
  expect(matches(filter, sentinel)).toBe(true);
  const expected = published.filter((event) => matches(filter, event));
  const read = await take(consume(backbone, orders, { position: { from: published[0]!.offset }, ...filter }), expected.length);
  expect(read.map(summary)).toEqual(expected);
  for (const event of read) expect(event.data.orderId).toBe(event.key ?? "");
  const offsets = read.map((e) => e.offset);
  for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
}

describe("type filter", () => {
  it("one type: only events of that type, offsets increasing", async () => {
    const published = await publishMix(["t1-a", "t1-b"]);
    await expectFiltered(published, { types: [SHIPPED] }, await publishOne(SHIPPED, "t1-a"));
    await expectFiltered(published, { types: [CANCELLED] }, await publishOne(CANCELLED, "t1-b"));
  });

  it("two types: only events of either type", async () => {
    const published = await publishMix(["t2-a", "t2-b"]);
    await expectFiltered(published, { types: [CREATED, CANCELLED] }, await publishOne(CANCELLED, "t2-a"));
    await expectFiltered(published, { types: [SHIPPED, CREATED] }, await publishOne(CREATED, "t2-b"));
  });

  it("all three types: everything", async () => {
    const published = await publishMix(["t3-a"]);
    await expectFiltered(published, { types: [...TYPES] }, await publishOne(SHIPPED, "t3-a"));
  });
});

describe("key filter", () => {
  it("a plain key: only that key, not keys it is a prefix of or differs from in case", async () => {
    const keys = ["ord-7", "ord-70", "ord-7x", "ORD-7", "ord_7", "ord-7.1", "ord", "x-ord-7"];
    const published = await publishMix(keys);
    await expectFiltered(published, { key: "ord-7" }, await publishOne(CREATED, "ord-7"));
    await expectFiltered(published, { key: "ord" }, await publishOne(SHIPPED, "ord"));
  });

  it("keys that need encoding in a subject: dots, spaces, slashes, wildcards, unicode", async () => {
    const keys = [
      "a.b c/*>",
      "a.b c/*",
      "a.b",
      "a",
      "*",
      ">",
      "~",
      "a b",
      "ключ-🚀",
      "ünïcödé",
      "colon:semi;quote\"",
      // What "a.b c/*>" is encoded as in a subject, used as a key of its own.
      "~" + Buffer.from("a.b c/*>", "utf8").toString("base64url"),
    ];
    const published = await publishMix(keys);
    for (const key of keys) {
      await expectFiltered(published, { key }, await publishOne(SHIPPED, key));
    }
  });
});

describe("type and key together", () => {
  it("one type and a key: only that type of that key", async () => {
    const keys = ["tk-1", "a.b c/*>", "ключ"];
    const published = await publishMix(keys);
    await expectFiltered(published, { types: [SHIPPED], key: "a.b c/*>" }, await publishOne(SHIPPED, "a.b c/*>"));
    await expectFiltered(published, { types: [CREATED], key: "tk-1" }, await publishOne(CREATED, "tk-1"));
    await expectFiltered(published, { types: [CANCELLED], key: "ключ" }, await publishOne(CANCELLED, "ключ"));
  });

  it("two types and a key: only those types of that key", async () => {
    const keys = ["tk-2", "tk-2.", "ключ"];
    const published = await publishMix(keys);
    await expectFiltered(published, { types: [SHIPPED, CANCELLED], key: "tk-2" }, await publishOne(CANCELLED, "tk-2"));
    await expectFiltered(published, { types: [CREATED, SHIPPED], key: "ключ" }, await publishOne(CREATED, "ключ"));
  });

  it("filters live events too", async () => {
    const key = "live/key.1";
    const filter: Filter = { types: [CREATED, CANCELLED], key };
    const existing = await consumerNames(backbone.jsm, "orders");
    const live = new LiveRead((signal) => consume(backbone, orders, { position: { from: "now" }, ...filter, signal }));
    try {
      await waitForNewConsumer(backbone.jsm, "orders", existing);
      const published = await publishMix([key, "live/key.2", "live-key-1"]);
      published.push(await publishOne(CANCELLED, key));
      const expected = published.filter((event) => matches(filter, event));
      await live.waitFor(expected.length);
      expect(live.items.map(summary)).toEqual(expected);
    } finally {
      await live.stop();
    }
  });
});

describe("key values that headers mangle", () => {
  // The key travels in the Streamgate-Key header and is read back from it; the filter uses the
  // subject token. Both must agree with the key the producer was given.
  it.each([" padded ", "trailing ", " leading", "trailing-tab\t"])(
    "key %j is read back exactly as published, or refused as invalid",
    async (key) => {
      const producer = createProducer(backbone.js, orders);
      const outcome = await producer.publish(orderEvent(SHIPPED, key)).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      if ("error" in outcome) {
        expect(outcome.error).toBeInstanceOf(InvalidEventError);
        return;
      }
      const [read] = await take(consume(backbone, orders, { position: { from: outcome.result.offset }, key }), 1, 5_000);
      expect(read).toMatchObject({ offset: outcome.result.offset, key });
      expect(read!.data.orderId).toBe(key);
    },
  );

  it.each(["line\nbreak", "carriage\rreturn"])("key %j is refused as an invalid event", async (key) => {
    const producer = createProducer(backbone.js, orders);
    await expect(producer.publish(orderEvent(SHIPPED, key))).rejects.toBeInstanceOf(InvalidEventError);
  });
});

describe("long keys", () => {
  // MAX_KEY_LENGTH counts UTF-16 units; the key's subject token is base64url of its UTF-8 bytes.
  // A key the producer accepts must be stored and readable by key filter; one it does not accept
  // must be refused as invalid, and must not break the connection for everyone else on it.
  it.each([
    ["1024 ASCII characters needing encoding", "k.".repeat(512)],
    ["1024 three-byte characters", "€".repeat(1024)],
  ])("a key of %s is stored and filtered, or refused as invalid", async (_, key) => {
    // Its own connection, so a broken one cannot disturb the other tests in this file.
    const own = await connectBackbone(backbone.nats.url, "filters-long-key");
    let disconnects = 0;
    void (async () => {
      for await (const status of own.nc.status()) if (status.type === "disconnect") disconnects++;
    })();
    try {
      const producer = createProducer(own.js, orders, { retryForMs: 2_000 });
      const outcome = await producer.publish(orderEvent(SHIPPED, key)).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      if ("error" in outcome) {
        expect(outcome.error).toBeInstanceOf(InvalidEventError);
      } else {
        const [read] = await take(consume(own, orders, { position: { from: outcome.result.offset }, key }), 1, 5_000);
        expect(read).toMatchObject({ offset: outcome.result.offset, key });
      }
      expect(disconnects).toBe(0);
    } finally {
      await own.nc.close();
    }
  });
});
