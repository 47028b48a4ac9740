/**
 * The schema-driven contract (PROTOCOL.md sections 2 to 6): every event type a gateway's
 * descriptor set declares, given messages generated from its descriptor (./generate.ts), is
 * published every way a client can publish and read back every way a client can read, and
 * every copy must equal the original, field by field, with the envelope's stream, offset, id,
 * type and key.
 *
 * Nothing here names a schema, a stream or a type: the types come from the registry, the typed
 * producer and consumer from the generated stream descriptors the caller passes. Adding an
 * event type (or a stream) to the schemas adds it to the suite.
 *
 * To stay fast, everything is published first, then each read path reads each stream once, from
 * the first offset this run published, over the whole range.
 */
import { equals, fromBinary, fromJson, toBinary, toJson, type Message } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Event, EventBatch } from "../../protocol/generated/streamgate/v1/event.js";
import type { EventDefinition, StreamDefinition } from "../../src/schema/definitions.js";
import type { Schemas } from "../../src/schema/registry.js";
import { consume } from "../../src/typed/consumer.js";
import { createProducer, type Producer } from "../../src/typed/producer.js";
import type { AnyStreamDescriptor, EventTypeDescriptor } from "@streamgate/protocol/stream";
import { openSse, pollRaw, readPoll } from "../protocols/harness.js";
import { take } from "../support/collect.js";
import { RFC3339_UTC } from "../support/events.js";
import type { TestGateway } from "../support/gateway.js";
import { send } from "../support/http.js";
import { startReceiver, type Receiver } from "../support/webhook-receiver.js";
import type { Envelope } from "../support/envelope.js";
import { WsClient, wsUrl, type MsgOf, type WsEvent } from "../support/ws-client.js";
import { diffMessages, hasNaN, showScalar, unknownFields } from "./compare.js";
import { Coverage, FULL_CYCLE, generateMessages } from "./generate.js";

export const PUBLISH_PATHS = ["typed-producer", "http-json", "http-proto", "ws-json", "ws-proto"] as const;
export const READ_PATHS = ["typed-consumer", "ws-json", "ws-proto", "sse", "poll-json", "poll-proto", "webhook"] as const;
export type PublishPath = (typeof PUBLISH_PATHS)[number];
export type ReadPath = (typeof READ_PATHS)[number];

export interface ContractConfig {
  gateway: TestGateway;
  /** The schemas the gateway serves (loaded from the same descriptor set). */
  schemas: Schemas;
  /** Generated typed stream descriptors (the `streams` arrays of generated stream modules). */
  typed: readonly AnyStreamDescriptor[];
  /** Only these streams of the descriptor set (default: all). */
  streams?: readonly string[];
  seed: number;
  /** Messages per type; FULL_CYCLE lets every field walk its whole catalog. */
  count?: number;
  /** How long one read path may take per stream. */
  readTimeoutMs?: number;
}

/** One event type under test, with its messages. */
export interface TypeCase {
  stream: StreamDefinition;
  event: EventDefinition;
  typedStream: AnyStreamDescriptor;
  typed: EventTypeDescriptor<unknown>;
  messages: Message[];
}

/** One published copy of one message. */
export interface Published {
  case: TypeCase;
  index: number;
  via: PublishPath;
  stream: string;
  offset: number;
  id: string;
  /** What the envelope's key must be: the key field's value, or none. */
  key: string | undefined;
}

/** One event as a read path delivered it, its data normalized to a @bufbuild/protobuf message. */
export interface Copy {
  stream: string;
  offset: number;
  id: string;
  type: string;
  key: string | undefined;
  /** JSON envelopes: whether the key property is present at all (it must be absent for no key). */
  keyPresent?: boolean;
  /** Milliseconds since the epoch of the envelope's `time`. */
  timeMs: number;
  message?: Message;
  /** The typed consumer's ts-proto object, as it came. */
  tsProto?: unknown;
  /** Why the data could not be normalized, or what is wrong with the envelope. */
  problems: string[];
}

export interface Failure {
  read: ReadPath | "publish";
  via: PublishPath | "-";
  type: string;
  index: number;
  offset: number;
  /** A data field path, or an envelope property in angle brackets (<key>, <missing>, ...). */
  path: string;
  expected: string;
  actual: string;
}

export interface SuiteSize {
  types: number;
  publish: number;
  read: number;
  messages: number;
  checks: number;
}

/** JSON text that keeps -0 (JSON.stringify writes it as 0), so publishing loses nothing. */
export function stringifyJson(value: unknown): string {
  const marker = "\u0000contract:negative-zero\u0000";
  return JSON.stringify(value, (_key, v: unknown) => (Object.is(v, -0) ? marker : v)).replaceAll(JSON.stringify(marker), "-0");
}

export class Contract {
  readonly cases: TypeCase[] = [];
  readonly published: Published[] = [];
  readonly failures: Failure[] = [];
  /** `type|via|read|index` of every comparison made. */
  readonly checked = new Set<string>();
  readonly coverage = new Coverage();
  readonly size: SuiteSize;
  /** The envelope time each event was first seen with, per `stream/offset`. */
  readonly #times = new Map<string, number>();
  readonly #receiver: Receiver;
  readonly #webhooks: string[] = [];
  readonly #expected = new Map<string, Published[]>();

  private constructor(
    readonly config: ContractConfig,
    receiver: Receiver,
  ) {
    this.#receiver = receiver;
    const { schemas } = config;
    const typedByType = new Map<string, { stream: AnyStreamDescriptor; event: EventTypeDescriptor<unknown> }>();
    for (const stream of config.typed) {
      for (const [type, event] of Object.entries(stream.events)) typedByType.set(type, { stream, event });
    }
    const count = config.count ?? FULL_CYCLE;
    for (const stream of [...schemas.streams.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (config.streams && !config.streams.includes(stream.name)) continue;
      for (const event of stream.events) {
        const typed = typedByType.get(event.type);
        if (!typed) throw new Error(`no generated stream descriptor declares ${event.type} (stream ${stream.name}): pass its stream module in \`typed\``);
        if (typed.stream.name !== stream.name) throw new Error(`${event.type}: the registry puts it on ${stream.name}, the generated code on ${typed.stream.name}`);
        const messages = generateMessages(event.message, {
          seed: config.seed,
          count,
          keyField: event.keyField,
          registry: schemas.registry,
          coverage: this.coverage,
        });
        this.cases.push({ stream, event, typedStream: typed.stream, typed: typed.event, messages });
      }
    }
    if (this.cases.length === 0) throw new Error("the descriptor set declares no event types to test");
    const types = this.cases.length;
    this.size = { types, publish: PUBLISH_PATHS.length, read: READ_PATHS.length, messages: count, checks: types * PUBLISH_PATHS.length * READ_PATHS.length * count };
  }

  /** Generates, publishes every message every way, and registers one webhook per stream. */
  static async prepare(config: ContractConfig): Promise<Contract> {
    const contract = new Contract(config, await startReceiver());
    const { size } = contract;
    console.log(
      `contract: ${size.types} types × ${size.publish} publish paths × ${size.read} read paths × ${size.messages} messages = ${size.checks} checks` +
        ` (seed ${config.seed}; types: ${contract.cases.map((c) => c.event.type).join(", ")})`,
    );
    try {
      await contract.#publishAll();
      await contract.#registerWebhooks();
    } catch (err) {
      await contract.close();
      throw err;
    }
    return contract;
  }

  get streams(): string[] {
    return [...this.#expected.keys()];
  }

  async close(): Promise<void> {
    for (const id of this.#webhooks) {
      const res = await send(this.config.gateway.url, { method: "DELETE", path: `/v1/webhooks/${id}` });
      if (res.status !== 204) throw new Error(`DELETE /v1/webhooks/${id} -> ${res.status} ${res.text}`);
    }
    await this.#receiver.close();
  }

  // -----------------------------------------------------------------------------------------
  // Publishing

  async #publishAll(): Promise<void> {
    const gw = this.config.gateway;
    const run = Date.now().toString(36);
    const producers = new Map<string, Producer<AnyStreamDescriptor>>();
    const wsJson = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "json");
    const wsProto = await WsClient.connect(wsUrl(gw.url, "/v1/ws"), "proto");
    try {
      // The paths publish side by side, each one message after the other.
      await Promise.all(
        PUBLISH_PATHS.map(async (via, p) => {
          for (const [t, c] of this.cases.entries()) {
            for (const [index, original] of c.messages.entries()) {
              const id = `contract-${run}-${p}-${t}-${index}`;
              const desc = c.event.message;
              let result: { offset: number; id: string; duplicate: boolean } | string;
              try {
                switch (via) {
                  case "typed-producer": {
                    let producer = producers.get(c.stream.name);
                    if (!producer) producers.set(c.stream.name, (producer = createProducer(gw.gateway.session.backbone.js, c.typedStream)));
                    // The typed producer takes ts-proto objects: the original as ts-proto decodes it.
                    const data = c.typed.codec.decode(toBinary(desc, original));
                    result = await producer.publish({ type: c.event.type, data } as never, { id });
                    break;
                  }
                  case "http-json":
                    result = await this.#http(c.stream.name, {
                      headers: { "content-type": "application/json" },
                      body: stringifyJson({ type: c.event.type, data: toJson(desc, original, { registry: this.config.schemas.registry }), id }),
                    });
                    break;
                  case "http-proto":
                    result = await this.#http(c.stream.name, {
                      headers: { "content-type": "application/x-protobuf", "streamgate-type": c.event.type, "idempotency-key": id },
                      body: toBinary(desc, original),
                    });
                    break;
                  case "ws-json":
                    result = await wsPublish(wsJson, {
                      op: "publish",
                      stream: c.stream.name,
                      type: c.event.type,
                      data: toJson(desc, original, { registry: this.config.schemas.registry }),
                      id,
                    });
                    break;
                  case "ws-proto":
                    result = await wsPublish(wsProto, { op: "publish", stream: c.stream.name, type: c.event.type, data: toBinary(desc, original), id });
                    break;
                }
              } catch (err) {
                result = `threw ${(err as Error).message}`;
              }
              if (typeof result === "string" || result.id !== id || result.duplicate || !Number.isSafeInteger(result.offset)) {
                this.failures.push({
                  read: "publish",
                  via,
                  type: c.event.type,
                  index,
                  offset: 0,
                  path: "<publish>",
                  expected: `stored as a new event with id ${id}`,
                  actual: typeof result === "string" ? result : JSON.stringify(result),
                });
                continue;
              }
              this.published.push({ case: c, index, via, stream: c.stream.name, offset: result.offset, id, key: keyOf(c.event, original) });
            }
          }
        }),
      );
    } finally {
      await wsJson.close();
      await wsProto.close();
    }
    for (const p of [...this.published].sort((a, b) => a.offset - b.offset)) {
      let list = this.#expected.get(p.stream);
      if (!list) this.#expected.set(p.stream, (list = []));
      list.push(p);
    }
  }

  async #http(stream: string, req: { headers: Record<string, string>; body: string | Uint8Array }) {
    const res = await send(this.config.gateway.url, { method: "POST", path: `/v1/streams/${stream}/events`, ...req });
    if (res.status !== 201) return `HTTP ${res.status} ${res.text.slice(0, 300)}`;
    return res.body as { offset: number; id: string; duplicate: boolean };
  }

  async #registerWebhooks(): Promise<void> {
    for (const stream of this.streams) {
      const res = await send(this.config.gateway.url, {
        method: "POST",
        path: "/v1/webhooks",
        json: { url: `${this.#receiver.url}/${stream}`, stream, from: this.#first(stream), format: "envelope", retrySchedule: ["1s"] },
      });
      if (res.status !== 201) throw new Error(`POST /v1/webhooks for ${stream} -> ${res.status} ${res.text}`);
      this.#webhooks.push(res.body.id);
    }
  }

  #first(stream: string): number {
    return this.#expected.get(stream)![0]!.offset;
  }

  #count(stream: string): number {
    return this.#expected.get(stream)!.length;
  }

  // -----------------------------------------------------------------------------------------
  // Reading

  /** Reads every stream once over `path` and checks every copy; returns this path's failures. */
  async verify(path: ReadPath): Promise<Failure[]> {
    const before = this.failures.length;
    const timeout = this.config.readTimeoutMs ?? 30_000;
    const copies = new Map<string, Copy[]>();
    const read = async (stream: string): Promise<void> => {
      copies.set(stream, await this.#read(path, stream, this.#first(stream), this.#count(stream), timeout));
    };
    if (path === "ws-json" || path === "ws-proto") {
      for (const [stream, list] of await this.#readWs(path === "ws-json" ? "json" : "proto", timeout)) copies.set(stream, list);
    } else {
      await Promise.all(this.streams.map(read));
    }
    for (const stream of this.streams) this.#check(path, stream, copies.get(stream) ?? []);
    return this.failures.slice(before);
  }

  async #read(path: ReadPath, stream: string, from: number, count: number, timeoutMs: number): Promise<Copy[]> {
    const gw = this.config.gateway;
    switch (path) {
      case "typed-consumer": {
        const typedStream = this.cases.find((c) => c.stream.name === stream)!.typedStream;
        const unreadable: string[] = [];
        const events = await take(
          consume(gw.gateway.session.backbone, typedStream, {
            position: { from },
            onUnreadable: (event, reason) => unreadable.push(`offset ${event.offset}: ${reason}`),
          }),
          count,
          timeoutMs,
        ).catch((err: Error) => {
          throw new Error(`typed consumer of ${stream}: ${err.message}; unreadable: ${unreadable.join("; ") || "none"}`);
        });
        return events.map((e) => {
          const event = this.#definition(e.type);
          const problems = unreadable.filter((u) => u.startsWith(`offset ${e.offset}:`));
          let message: Message | undefined;
          if (event) {
            // ts-proto object → its encoding → a @bufbuild/protobuf message.
            const typed = typedStream.events[e.type]!;
            message = fromBinary(event.message, typed.codec.encode(e.data).finish());
          }
          return { stream: typedStream.name, offset: e.offset, id: e.id, type: e.type, key: e.key, timeMs: e.time.getTime(), ...(message && { message }), tsProto: e.data, problems };
        });
      }
      case "sse": {
        const sse = await openSse(gw, { from }, { stream });
        try {
          await sse.waitForEvents(count, timeoutMs);
          await sse.quiet(200);
          const notices = sse.messages().filter((m) => m.event !== undefined);
          const copies = sse.envelopes().map((e) => this.#fromEnvelope(e));
          if (notices.length > 0) copies[0]?.problems.push(`unexpected notices: ${JSON.stringify(notices).slice(0, 300)}`);
          return copies;
        } finally {
          await sse.close();
        }
      }
      case "poll-json": {
        const { items } = await readPoll(gw, { from }, {}, count, { stream, timeoutMs });
        const copies: Copy[] = [];
        for (const item of items) {
          if (item.kind === "event") copies.push(this.#fromEnvelope(item.event));
          else copies.at(-1)?.problems.push(`unexpected gap notice ${JSON.stringify(item.gap)}`);
        }
        return copies;
      }
      case "poll-proto": {
        const copies: Copy[] = [];
        const deadline = Date.now() + timeoutMs;
        let next = from;
        for (let empty = false; !empty; ) {
          if (Date.now() > deadline) throw new Error(`protobuf poll of ${stream} timed out with ${copies.length} of ${count} events`);
          const done = copies.length >= count;
          const res = await pollRaw(gw, stream, { from: next, wait: done ? 0 : 5 }, { accept: "application/x-protobuf" });
          if (res.status !== 200) throw new Error(`protobuf poll of ${stream} from ${next} -> ${res.status} ${res.text.slice(0, 300)}`);
          const type = res.headers.get("content-type") ?? "";
          if (!type.startsWith("application/x-protobuf")) throw new Error(`protobuf poll answered with Content-Type ${type}`);
          const batch = EventBatch.decode(res.bytes);
          for (const e of batch.events) copies.push(this.#fromProtoEvent(e));
          if (batch.gap) copies.at(-1)?.problems.push(`unexpected gap notice ${JSON.stringify(batch.gap, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`);
          next = Number(batch.next);
          empty = done && batch.events.length === 0;
        }
        return copies;
      }
      case "webhook": {
        const prefix = `/hook/${stream}`;
        const mine = () => this.#receiver.requests.filter((r) => r.path === prefix);
        await this.#receiver.until(() => mine().length >= count, `${count} webhook deliveries of ${stream}`, timeoutMs);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return mine().map((r) => {
          let envelope: Envelope;
          try {
            envelope = JSON.parse(r.body) as Envelope;
          } catch {
            return { stream, offset: r.offset, id: r.webhookId, type: "", key: undefined, timeMs: NaN, problems: [`body is not JSON: ${r.body.slice(0, 200)}`] };
          }
          const copy = this.#fromEnvelope(envelope);
          const headers = r.headers;
          if (!/^application\/json/.test(headers["content-type"] ?? "")) copy.problems.push(`content-type ${headers["content-type"]}`);
          if (headers["webhook-id"] !== envelope.id) copy.problems.push(`webhook-id ${headers["webhook-id"]} but envelope id ${envelope.id}`);
          if (headers["streamgate-offset"] !== String(envelope.offset)) copy.problems.push(`streamgate-offset ${headers["streamgate-offset"]} but envelope offset ${envelope.offset}`);
          if (headers["streamgate-stream"] !== envelope.stream) copy.problems.push(`streamgate-stream ${headers["streamgate-stream"]}`);
          return copy;
        });
      }
      default:
        throw new Error(`no reader for ${path}`);
    }
  }

  /** One WebSocket connection, one subscription per stream, each from the stream's first offset. */
  async #readWs(kind: "json" | "proto", timeoutMs: number): Promise<Map<string, Copy[]>> {
    const ws = await WsClient.connect(wsUrl(this.config.gateway.url, "/v1/ws"), kind);
    const out = new Map<string, Copy[]>();
    try {
      for (const stream of this.streams) await ws.subscribe({ sub: `contract-${stream}`, stream, from: this.#first(stream) });
      for (const stream of this.streams) {
        const events = await ws.events(`contract-${stream}`, this.#count(stream), timeoutMs);
        out.set(stream, events.map((e) => (kind === "json" ? this.#fromEnvelope(e as Envelope) : this.#fromWsProto(e))));
      }
      const extra = (await ws.drain(200)).filter((r) => r.msg.op === "event" || r.msg.op === "gap" || r.msg.op === "error");
      for (const r of extra) {
        const msg = r.msg as MsgOf<"event">;
        const stream = msg.sub?.replace(/^contract-/, "") ?? "";
        if (msg.op === "event") out.get(stream)?.push(kind === "json" ? this.#fromEnvelope(msg.event as Envelope) : this.#fromWsProto(msg.event));
        else out.get(stream)?.at(-1)?.problems.push(`unexpected frame ${JSON.stringify(r.msg).slice(0, 300)}`);
      }
    } finally {
      await ws.close();
    }
    return out;
  }

  #definition(type: string): EventDefinition | undefined {
    return this.cases.find((c) => c.event.type === type)?.event;
  }

  /** A JSON envelope (SSE, long poll, WebSocket JSON, webhook). */
  #fromEnvelope(e: Envelope): Copy {
    const problems: string[] = [];
    if (!RFC3339_UTC.test(e.time)) problems.push(`time ${JSON.stringify(e.time)} is not RFC 3339 UTC`);
    if (e.key === "") problems.push(`key is "" (must be omitted when there is none)`);
    if ("dataBase64" in e) problems.push(`dataBase64 present (${String(e.dataBase64).slice(0, 60)}): the gateway could not decode the data`);
    const event = this.#definition(e.type);
    let message: Message | undefined;
    if (!event) problems.push(`type ${e.type} is not under test`);
    else if (e.data === null || typeof e.data !== "object") problems.push(`data is ${JSON.stringify(e.data)}`);
    else {
      try {
        message = fromJson(event.message, e.data as never, { registry: this.config.schemas.registry });
        // The value is compared field by field later; here the form: canonical proto3 JSON is
        // exactly what toJson writes for that value (int64 as strings, enums as names, ...).
        const canonical = toJson(event.message, message, { registry: this.config.schemas.registry });
        const where = firstJsonDifference(canonical, e.data, "data");
        if (where) problems.push(`data is not in canonical form at ${where}`);
      } catch (err) {
        problems.push(`data is not canonical JSON of ${e.type}: ${(err as Error).message}`);
      }
    }
    return {
      stream: e.stream,
      offset: e.offset,
      id: e.id,
      type: e.type,
      key: e.key,
      keyPresent: "key" in e,
      timeMs: Date.parse(e.time),
      ...(message && { message }),
      problems,
    };
  }

  /** The proto subprotocol's Event, as the WebSocket client normalized it. */
  #fromWsProto(e: WsEvent): Copy {
    return this.#fromBytes(e.stream, e.offset, e.id, e.type, e.key, e.timestamp ? timestampMs(e.timestamp) : NaN, e.bytes ?? new Uint8Array());
  }

  #fromProtoEvent(e: Event): Copy {
    return this.#fromBytes(e.stream, Number(e.offset), e.id, e.type, e.key === "" ? undefined : e.key, e.time ? timestampMs(e.time) : NaN, e.data);
  }

  #fromBytes(stream: string, offset: number, id: string, type: string, key: string | undefined, timeMs: number, bytes: Uint8Array): Copy {
    const problems: string[] = [];
    const event = this.#definition(type);
    let message: Message | undefined;
    if (!event) problems.push(`type ${type} is not under test`);
    else {
      try {
        message = fromBinary(event.message, bytes);
        const unknown = unknownFields(event.message, message);
        if (unknown.length > 0) problems.push(`data holds fields ${event.type} does not declare: ${unknown.join(", ")}`);
      } catch (err) {
        problems.push(`data does not decode as ${type}: ${(err as Error).message}`);
      }
    }
    return { stream, offset, id, type, key, timeMs, ...(message && { message }), problems };
  }

  // -----------------------------------------------------------------------------------------
  // Checking

  #check(read: ReadPath, stream: string, copies: readonly Copy[]): void {
    const expected = this.#expected.get(stream)!;
    const byOffset = new Map<number, Copy>();
    const fail = (p: Published | undefined, path: string, want: string, got: string, offset = p?.offset ?? 0) =>
      this.failures.push({ read, via: p?.via ?? "-", type: p?.case.event.type ?? stream, index: p?.index ?? -1, offset, path, expected: want, actual: got });
    let last = 0;
    for (const copy of copies) {
      if (byOffset.has(copy.offset)) fail(undefined, "<duplicate>", "each offset once", `offset ${copy.offset} again`, copy.offset);
      else byOffset.set(copy.offset, copy);
      if (copy.offset <= last) fail(undefined, "<order>", `an offset above ${last}`, String(copy.offset), copy.offset);
      last = Math.max(last, copy.offset);
    }
    const wanted = new Set(expected.map((p) => p.offset));
    for (const copy of byOffset.values()) {
      if (!wanted.has(copy.offset)) fail(undefined, "<unexpected>", "(nothing)", `an event of type ${copy.type}`, copy.offset);
    }
    for (const p of expected) {
      const copy = byOffset.get(p.offset);
      const c = p.case;
      this.checked.add(`${c.event.type}|${p.via}|${read}|${p.index}`);
      if (!copy) {
        fail(p, "<missing>", `offset ${p.offset}`, "never delivered");
        continue;
      }
      if (copy.stream !== p.stream) fail(p, "<stream>", p.stream, copy.stream);
      if (copy.id !== p.id) fail(p, "<id>", p.id, copy.id);
      if (copy.type !== c.event.type) fail(p, "<type>", c.event.type, copy.type);
      if (copy.key !== p.key) fail(p, "<key>", showScalar(p.key), showScalar(copy.key));
      if (p.key === undefined && copy.keyPresent) fail(p, "<key>", "(omitted)", "present");
      if (!Number.isFinite(copy.timeMs)) fail(p, "<time>", "a time", "none");
      else {
        const first = this.#times.get(`${stream}/${p.offset}`);
        if (first === undefined) this.#times.set(`${stream}/${p.offset}`, copy.timeMs);
        else if (first !== copy.timeMs) fail(p, "<time>", new Date(first).toISOString(), new Date(copy.timeMs).toISOString());
      }
      for (const problem of copy.problems) fail(p, "<envelope>", "a well-formed envelope", problem);
      if (!copy.message) continue;
      const desc = c.event.message;
      const original = c.messages[p.index]!;
      const found = diffMessages(desc, original, copy.message);
      let differences = found;
      if (copy.tsProto !== undefined) {
        // The typed consumer's copy is a ts-proto object, normalized by ts-proto's encode; but
        // that encode drops -0 from singular float/double fields (`if (x !== 0)`), so the
        // normalization cannot show a -0 the consumer did deliver. So the object itself is also
        // compared, exactly (Object.is), with what ts-proto's decode makes of the original's
        // bytes: when those agree, a -0 → 0 difference is the normalization's, not the read's.
        const expectedObject = c.typed.codec.decode(toBinary(desc, original));
        const where = firstObjectDifference(expectedObject, copy.tsProto, "data");
        if (where) fail(p, `<ts-proto ${where.path}>`, where.expected, where.actual);
        else differences = differences.filter((d) => !(d.expected === "-0" && d.actual === "0"));
      }
      for (const d of differences) fail(p, d.path, d.expected, d.actual);
      // `equals` must agree wherever it can judge (NaN never equals itself under IEEE rules).
      if (found.length === 0 && !hasNaN(desc, original) && !equals(desc, original, copy.message)) {
        fail(p, "<equals>", "equals() true", "equals() false although no field differs");
      }
    }
  }
}

/** The path of the first place two JSON values differ (object key order aside), or undefined. */
export function firstJsonDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  const show = (v: unknown) => (v === undefined ? "absent" : JSON.stringify(v).slice(0, 60));
  const differ = () => `${path} (canonical: ${show(expected)}, got: ${show(actual)})`;
  if (typeof expected !== typeof actual || Array.isArray(expected) !== Array.isArray(actual) || (expected === null) !== (actual === null)) {
    return differ();
  }
  if (Array.isArray(expected)) {
    const other = actual as unknown[];
    if (expected.length !== other.length) return `${path}.length`;
    for (let i = 0; i < expected.length; i++) {
      const d = firstJsonDifference(expected[i], other[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof expected === "object" && expected !== null) {
    const a = expected as Record<string, unknown>;
    const b = actual as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstJsonDifference(a[key], b[key], `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  // Numbers compare by value here (-0 and 0 alike: the field comparison judges the sign).
  return expected === actual ? undefined : differ();
}

/** The first place two ts-proto objects differ: numbers by Object.is, bytes by content, Maps by entry. */
export function firstObjectDifference(expected: unknown, actual: unknown, path: string): { path: string; expected: string; actual: string } | undefined {
  const differ = () => ({ path, expected: showScalar(expected), actual: showScalar(actual) });
  if (typeof expected === "number" || typeof actual === "number") return Object.is(expected, actual) ? undefined : differ();
  if (expected instanceof Uint8Array || actual instanceof Uint8Array) {
    return expected instanceof Uint8Array && actual instanceof Uint8Array && Buffer.from(expected).equals(Buffer.from(actual)) ? undefined : differ();
  }
  if (expected instanceof Map || actual instanceof Map) {
    if (!(expected instanceof Map && actual instanceof Map)) return differ();
    if (expected.size !== actual.size) return { path: `${path}.size`, expected: String(expected.size), actual: String(actual.size) };
    for (const [k, v] of expected) {
      if (!actual.has(k)) return { path: `${path}[${showScalar(k)}]`, expected: showScalar(v), actual: "(no entry)" };
      const d = firstObjectDifference(v, actual.get(k), `${path}[${showScalar(k)}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!(Array.isArray(expected) && Array.isArray(actual))) return differ();
    if (expected.length !== actual.length) return { path: `${path}.length`, expected: String(expected.length), actual: String(actual.length) };
    for (let i = 0; i < expected.length; i++) {
      const d = firstObjectDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof expected === "object" && expected !== null && typeof actual === "object" && actual !== null) {
    const a = expected as Record<string, unknown>;
    const b = actual as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstObjectDifference(a[key], b[key], `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }
  return expected === actual ? undefined : differ();
}

function timestampMs(t: { seconds: bigint; nanos: number }): number {
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}

function keyOf(event: EventDefinition, message: Message): string | undefined {
  if (!event.keyField) return undefined;
  const value = (message as unknown as Record<string, unknown>)[event.keyField.localName];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Publishes over WebSocket, waiting for `published` (a rate_limited answer is retried: same id). */
async function wsPublish(ws: WsClient, op: Record<string, unknown> & { op: "publish" }): Promise<{ offset: number; id: string; duplicate: boolean } | string> {
  for (let attempt = 0; ; attempt++) {
    const ref = `pub-${Math.random().toString(36).slice(2)}`;
    const frame = { ...op, ref };
    if (ws.kind === "json") ws.sendRaw(stringifyJson(frame));
    else ws.send(frame);
    const answer = await ws.next((m) => (m.op === "published" || m.op === "error") && "ref" in m && m.ref === ref, 10_000, `published ${ref}`);
    if (answer.op === "published") return answer;
    if (answer.op === "error" && answer.code === "rate_limited" && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    return JSON.stringify(answer);
  }
}

// -------------------------------------------------------------------------------------------
// Reporting

/**
 * Failures grouped by read path, type and field (list indices and map keys folded), each with
 * the publish paths it happened for and one example.
 */
export function formatFailures(failures: readonly Failure[], limit = 60): string {
  const groups = new Map<string, { count: number; sample: Failure; via: Set<string>; indices: Set<number> }>();
  for (const f of failures) {
    const key = `${f.read} | ${f.type} | ${f.path.replace(/\[(\d+|"(?:[^"\\]|\\.)*")\]/g, "[*]")}`;
    const g = groups.get(key) ?? { count: 0, sample: f, via: new Set<string>(), indices: new Set<number>() };
    groups.set(key, g);
    g.count++;
    g.via.add(f.via);
    g.indices.add(f.index);
  }
  const lines = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, g]) => {
      const s = g.sample;
      const messages = [...g.indices].sort((a, b) => a - b).join(",");
      return `${key}: ${g.count}× (published via ${[...g.via].join(", ")}; messages ${messages}); e.g. ${s.via} message ${s.index} offset ${s.offset} ${s.path}: expected ${s.expected}, got ${s.actual}`;
    });
  const shown = lines.slice(0, limit);
  if (lines.length > limit) shown.push(`... and ${lines.length - limit} more groups`);
  return `${failures.length} differences in ${groups.size} groups:\n${shown.join("\n")}`;
}

/** Which publish path × read path pairs had failing messages (for the console). */
export function failureMatrix(contract: Contract): string {
  const bad = new Map<string, Set<string>>();
  for (const f of contract.failures) {
    const key = `${f.via} → ${f.read}`;
    if (!bad.has(key)) bad.set(key, new Set());
    bad.get(key)!.add(`${f.type}#${f.index}`);
  }
  const rows = PUBLISH_PATHS.map((via) => {
    const cells = READ_PATHS.map((read) => String(bad.get(`${via} → ${read}`)?.size ?? 0).padStart(read.length));
    return `${via.padEnd(15)} ${cells.join("  ")}`;
  });
  return [`failing messages (publish ↓, read →)\n${"".padEnd(15)} ${READ_PATHS.join("  ")}`, ...rows].join("\n");
}

/**
 * Registers the suite with vitest: `setup` starts what the contract needs (a gateway, its
 * schemas, generated stream descriptors); one test per read path, one for the publish answers,
 * the generator's coverage and the count of checks.
 */
export function contractSuite(title: string, setup: () => Promise<ContractConfig>, teardown?: () => Promise<void>): void {
  describe(title, () => {
    let contract: Contract | undefined;
    const started = performance.now();

    beforeAll(async () => {
      contract = await Contract.prepare(await setup());
    }, 120_000);

    afterAll(async () => {
      if (contract) {
        console.log(failureMatrix(contract));
        console.log(`contract: ${contract.checked.size} of ${contract.size.checks} checks made, ${contract.failures.length} differences, ${Math.round(performance.now() - started)} ms`);
      }
      await contract?.close();
      await teardown?.();
    });

    it("the generated messages walk every field's catalog (extremes, presence, sizes, oneof cases)", () => {
      const problems = contract!.coverage.problems();
      expect(problems, problems.join("\n")).toEqual([]);
    });

    it("every publish path stores every message as a new event", () => {
      const failures = contract!.failures.filter((f) => f.read === "publish");
      expect(failures.length, formatFailures(failures)).toBe(0);
    });

    for (const path of READ_PATHS) {
      it(`every copy read over ${path} equals its original`, async () => {
        const failures = await contract!.verify(path);
        expect(failures.length, formatFailures(failures)).toBe(0);
      });
    }

    it("every type × publish path × read path × message combination was checked", () => {
      const c = contract!;
      const missing: string[] = [];
      for (const tc of c.cases) {
        for (const via of PUBLISH_PATHS) {
          for (const read of READ_PATHS) {
            for (let i = 0; i < c.size.messages; i++) {
              if (!c.checked.has(`${tc.event.type}|${via}|${read}|${i}`)) missing.push(`${tc.event.type} ${via} → ${read} #${i}`);
            }
          }
        }
      }
      expect(missing.slice(0, 20), `${missing.length} combinations not checked`).toEqual([]);
      expect(c.checked.size).toBe(c.size.checks);
    });
  });
}

