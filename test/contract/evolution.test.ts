/**
 * Schema evolution (PROTOCOL.md section 2: undecodable events are never dropped): a stream
 * `evolving` whose NEW schema is the OLD one plus an added field (Reading.unit), an added enum
 * value (LEVEL_CRITICAL) and an added event type (Calibrated). Fixtures in
 * test/fixtures/contract/evolution/{old,new}; each is generated in a scratch buf workspace the
 * way `npm run codegen` does it. Events are written with the NEW schema's typed producer, then:
 *
 * - `buf breaking` of new against old passes (WIRE_JSON), and fails for a real break;
 * - (a) an OLD typed consumer reads them: known fields intact, the added field ignored, the added
 *   enum value as its number, the added type reported through onUnreadable and skipped;
 * - (b) a gateway serving the OLD descriptor set delivers them all over SSE and long poll (JSON
 *   and protobuf): no `unit` in data, the new enum value as its number, the unknown type with
 *   `"data": null` and `dataBase64` holding the stored bytes;
 * - (c) a gateway serving the NEW descriptor set, on the same backbone, delivers them with full data.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBatch } from "../../protocol/generated/streamgate/v1/event.js";
import type { StoredEvent } from "../../src/backbone/stored-event.js";
import { loadConfig } from "../../src/config/config.js";
import { runGateway, type RunningGateway } from "../../src/app.js";
import { consume } from "../../src/typed/consumer.js";
import { createProducer } from "../../src/typed/producer.js";
import type { AnyStreamDescriptor } from "@streamgate/protocol/stream";
import { pollRaw, readPoll, readSse, type Envelope } from "../protocols/harness.js";
import { take } from "../support/collect.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { BUF, createWorkspace, repo, type Workspace } from "./scratch.js";
import { run } from "../codegen/exec.js";

const STREAM = "evolving";
const READING = "evolving.v1.Reading";
const CALIBRATED = "evolving.v1.Calibrated";
/** The new enum value's number (LEVEL_CRITICAL). */
const CRITICAL = 3;

/** What the NEW typed producer publishes, in order. ts-proto objects of the new schema. */
const EVENTS = [
  { type: READING, data: { sensorId: "s-1", value: 21.5, level: 1, tags: ["roof", "north"], unit: "celsius" } },
  { type: READING, data: { sensorId: "s-2", value: -3.25, level: CRITICAL, tags: [], unit: "kelvin" } },
  { type: CALIBRATED, data: { sensorId: "s-1", offset: 0.125, level: CRITICAL } },
  { type: READING, data: { sensorId: "s-3", value: 0.5, level: 2, tags: ["basement"], unit: "" } },
  { type: CALIBRATED, data: { sensorId: "s-4", offset: -1, level: 2 } },
  { type: READING, data: { sensorId: "s-4", value: 1e-9, level: 0, tags: ["x"], unit: "mV" } },
] as const;

/** The old schema's view of a Reading: the new one without `unit`. */
const oldView = (data: (typeof EVENTS)[number]["data"]) => {
  const { unit: _unit, ...known } = data as { unit?: string };
  return known;
};
/** Canonical JSON of an event's data under a schema that knows the level names given. */
function json(data: Record<string, unknown>, levelNames: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === "" || v === 0 || (Array.isArray(v) && v.length === 0)) continue; // defaults omitted
    out[k] = k === "level" ? (levelNames[v as number] ?? v) : v;
  }
  return out;
}
const OLD_LEVELS = ["LEVEL_UNSPECIFIED", "LEVEL_LOW", "LEVEL_HIGH"];
const NEW_LEVELS = [...OLD_LEVELS, "LEVEL_CRITICAL"];

let oldWs: Workspace;
let newWs: Workspace;
let oldStream: AnyStreamDescriptor;
let newStream: AnyStreamDescriptor;
let oldGateway: TestGateway;
let newGateway: { url: string; gateway: RunningGateway } | undefined;
/** Offsets and stored bytes of EVENTS, in order. */
const published: { offset: number; id: string; bytes: Uint8Array }[] = [];

const fixture = (version: "old" | "new") => repo("test", "fixtures", "contract", "evolution", version);
const evolving = (streams: readonly AnyStreamDescriptor[]) => {
  const s = streams.find((x) => x.name === STREAM);
  if (!s) throw new Error(`the generated code declares no stream ${STREAM}: ${streams.map((x) => x.name).join(", ")}`);
  return s;
};

beforeAll(async () => {
  const workspace = (v: "old" | "new") =>
    createWorkspace({ prefix: `streamgate-evolution-${v}-`, modules: { proto: repo("proto"), schema: fixture(v) }, generate: ["schema"] });
  [oldWs, newWs] = await Promise.all([workspace("old"), workspace("new")]);
  oldStream = evolving(await oldWs.importStreams());
  newStream = evolving(await newWs.importStreams());
  oldGateway = await startTestGateway({ STREAMGATE_DESCRIPTOR_SET: oldWs.descriptorSet });

  // Written with the NEW schema's typed producer.
  const producer = createProducer(oldGateway.gateway.session.backbone.js, newStream);
  for (const [i, event] of EVENTS.entries()) {
    const id = `evolution-${i}`;
    const result = await producer.publish({ type: event.type, data: event.data } as never, { id });
    const bytes = newStream.events[event.type]!.codec.encode(newStream.events[event.type]!.codec.fromPartial(event.data as never)).finish();
    published.push({ offset: result.offset, id, bytes });
  }
  expect(published.map((p) => p.offset)).toEqual(EVENTS.map((_, i) => published[0]!.offset + i));
}, 120_000);

afterAll(async () => {
  await newGateway?.gateway.stop();
  await oldGateway?.close();
  await oldWs?.remove();
  await newWs?.remove();
});

const first = () => published[0]!.offset;

describe("schema evolution: new = old + a field, an enum value, an event type", () => {
  it("the generated code of each version declares what its schema does", () => {
    expect(Object.keys(oldStream.events)).toEqual([READING]);
    expect(Object.keys(newStream.events).sort()).toEqual([CALIBRATED, READING]);
  });

  it("buf breaking (WIRE_JSON) passes for new against old, and catches a real break", async () => {
    const ok = await run(BUF, ["breaking", "--against", oldWs.dir], { cwd: newWs.dir });
    expect(ok.code, `buf breaking new --against old:\n${ok.stderr}${ok.stdout}`).toBe(0);

    // The check has teeth: the same new schema with Reading.value turned into a string fails.
    const file = join(newWs.dir, "schema", "evolving", "v1", "evolving.proto");
    const text = await readFile(file, "utf8");
    try {
      await writeFile(file, text.replace("double value = 2;", "string value = 2;"));
      const broken = await run(BUF, ["breaking", "--against", oldWs.dir], { cwd: newWs.dir });
      expect(broken.code, "buf breaking must fail when a field changes type").not.toBe(0);
      expect(broken.stdout + broken.stderr).toMatch(/evolving\.proto.*"value".*type/);
    } finally {
      await writeFile(file, text);
    }
  });

  it("(a) an OLD typed consumer reads NEW events: known fields intact, additions ignored or numeric, the new type reported and skipped", async () => {
    const log: string[] = [];
    const unreadable: { event: StoredEvent; reason: string }[] = [];
    const readings = EVENTS.filter((e) => e.type === READING);
    const seen = await take(
      (async function* () {
        for await (const event of consume(oldGateway.gateway.session.backbone, oldStream, {
          position: { from: first() },
          onUnreadable: (event, reason) => {
            unreadable.push({ event, reason });
            log.push(`unreadable ${event.offset}`);
          },
        })) {
          log.push(`event ${event.offset}`);
          yield event;
        }
      })(),
      readings.length,
      15_000,
    );

    // In offset order, each Calibrated reported where it stands, nothing thrown.
    const o = published.map((p) => p.offset);
    expect(log).toEqual([`event ${o[0]}`, `event ${o[1]}`, `unreadable ${o[2]}`, `event ${o[3]}`, `unreadable ${o[4]}`, `event ${o[5]}`]);
    expect(unreadable.map((u) => [u.event.offset, u.event.type, u.event.id, u.event.key])).toEqual([
      [o[2], CALIBRATED, "evolution-2", "s-1"],
      [o[4], CALIBRATED, "evolution-4", "s-4"],
    ]);
    for (const u of unreadable) expect(u.reason).toContain(CALIBRATED);
    expect(Buffer.from(unreadable[0]!.event.data).equals(Buffer.from(published[2]!.bytes))).toBe(true);

    const readingOffsets = [o[0], o[1], o[3], o[5]];
    expect(seen.map((e) => [e.offset, e.type, e.id, e.key])).toEqual(
      readings.map((r, i) => [readingOffsets[i], READING, `evolution-${EVENTS.indexOf(r)}`, r.data.sensorId]),
    );
    for (const [i, event] of seen.entries()) {
      const data = event.data as Record<string, unknown>;
      // Known fields exactly as written; the added field is not there at all.
      expect(data).toEqual(oldView(readings[i]!.data));
      expect("unit" in data).toBe(false);
    }
    // The added enum value arrives as its number, which the old enum does not name.
    expect((seen[1]!.data as { level: number }).level).toBe(CRITICAL);
  });

  it("(b) a gateway on the OLD descriptor set delivers every NEW event over SSE and long poll, the unknown type as dataBase64", async () => {
    const sse = (await readSse(oldGateway, { from: first() }, {}, EVENTS.length, { stream: STREAM })).items;
    const poll = (await readPoll(oldGateway, { from: first() }, {}, EVENTS.length, { stream: STREAM })).items;
    for (const [name, items] of [["sse", sse], ["poll", poll]] as const) {
      const envelopes = items.map((i) => (i.kind === "event" ? i.event : ({ gap: i.gap } as unknown as Envelope)));
      expect(envelopes.map((e) => e.offset), name).toEqual(published.map((p) => p.offset));
      for (const [i, e] of envelopes.entries()) {
        const sent = EVENTS[i]!;
        expect([e.stream, e.type, e.id, e.key], `${name} #${i}`).toEqual([STREAM, sent.type, published[i]!.id, sent.data.sensorId]);
        if (sent.type === READING) {
          expect(e.data, `${name} #${i}: known fields, no unit, the new level as its number`).toEqual(json(oldView(sent.data), OLD_LEVELS));
          expect("dataBase64" in e, `${name} #${i}`).toBe(false);
        } else {
          expect(e.data, `${name} #${i}: an unknown type has no data`).toBeNull();
          expect(e.dataBase64, `${name} #${i}: the stored bytes`).toBe(Buffer.from(published[i]!.bytes).toString("base64"));
        }
      }
      expect((envelopes[1]!.data as { level: unknown }).level, name).toBe(CRITICAL);
    }

    // The protobuf poll carries every event's bytes as stored, known type or not.
    const res = await pollRaw(oldGateway, STREAM, { from: first(), wait: 0 }, { accept: "application/x-protobuf" });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const batch = EventBatch.decode(res.bytes);
    expect(batch.events.map((e) => [Number(e.offset), e.type])).toEqual(published.map((p, i) => [p.offset, EVENTS[i]!.type]));
    for (const [i, e] of batch.events.entries()) expect(Buffer.from(e.data).equals(Buffer.from(published[i]!.bytes)), `#${i}`).toBe(true);
  });

  it("(c) a gateway on the NEW descriptor set, same backbone, delivers them all with full data", async () => {
    const config = loadConfig({
      NATS_URL: oldGateway.nats.url,
      PORT: "0",
      STREAMGATE_LOG_LEVEL: "warn",
      STREAMGATE_DESCRIPTOR_SET: newWs.descriptorSet,
    });
    const gateway = await runGateway(config);
    const { port } = gateway.app.server.address() as AddressInfo;
    newGateway = { url: `http://127.0.0.1:${port}`, gateway };
    const gw = { url: newGateway.url } as TestGateway;

    const info = await (await fetch(`${gw.url}/v1/streams/${STREAM}`)).json();
    expect([...info.types].sort()).toEqual([CALIBRATED, READING]);

    const sse = (await readSse(gw, { from: first() }, {}, EVENTS.length, { stream: STREAM })).items;
    const poll = (await readPoll(gw, { from: first() }, {}, EVENTS.length, { stream: STREAM })).items;
    for (const [name, items] of [["sse", sse], ["poll", poll]] as const) {
      const envelopes = items.map((i) => (i.kind === "event" ? i.event : ({ gap: i.gap } as unknown as Envelope)));
      expect(envelopes.map((e) => e.offset), name).toEqual(published.map((p) => p.offset));
      for (const [i, e] of envelopes.entries()) {
        const sent = EVENTS[i]!;
        expect([e.type, e.id, e.key], `${name} #${i}`).toEqual([sent.type, published[i]!.id, sent.data.sensorId]);
        expect(e.data, `${name} #${i}: every field, the new level by name`).toEqual(json(sent.data, NEW_LEVELS));
        expect("dataBase64" in e, `${name} #${i}`).toBe(false);
      }
      expect((envelopes[1]!.data as { level: unknown }).level, name).toBe("LEVEL_CRITICAL");
      expect((envelopes[0]!.data as { unit: unknown }).unit, name).toBe("celsius");
    }

    // And the NEW typed consumer reads every event, the new type included.
    const events = await take(consume(oldGateway.gateway.session.backbone, newStream, { position: { from: first() } }), EVENTS.length, 15_000);
    expect(events.map((e) => [e.type, e.data])).toEqual(EVENTS.map((e) => [e.type, newStream.events[e.type]!.codec.fromPartial(e.data as never)]));
  });
});
