/**
 * A read whose server goes silent (frozen with SIGSTOP: no events, no heartbeats) is taken for
 * lost after READ_STALL_MS, and its consumer made again from the next offset once the server
 * answers: the read goes on with nothing lost or repeated. Errors of a connection that is
 * closing are told apart from those worth asking again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectBackbone, type Backbone } from "../../src/backbone/connection.js";
import { isBackboneUnavailable, isConnectionEnding, ReadStalledError } from "../../src/backbone/errors.js";
import { READ_STALL_MS, readStoredEvents } from "../../src/backbone/reader.js";
import { storeEvent } from "../../src/backbone/publish.js";
import { streamSubjects } from "../../src/backbone/subjects.js";
import type { StoredEvent } from "../../src/backbone/stored-event.js";
import { startTestNats, type TestNats } from "../support/nats.js";
import { consumerNames, LiveRead } from "../support/live-read.js";
import { whileFrozen } from "../support/backbone-trouble.js";
import { sleep } from "../support/wait.js";

const STREAM = "stalls";
let nats: TestNats;
let backbone: Backbone;

beforeAll(async () => {
  nats = await startTestNats();
  backbone = await connectBackbone(nats.url, "stalled-read-test");
  await backbone.jsm.streams.add({ name: STREAM, subjects: [streamSubjects(STREAM)] });
});
afterAll(async () => {
  await backbone?.nc.close();
  await nats?.stop();
});

const store = (n: number) => storeEvent(backbone.js, { stream: STREAM, type: "t", id: `e${n}`, data: new Uint8Array([n]) });

describe("a read whose server goes silent", () => {
  it("remakes its consumer from the next offset, losing and repeating nothing", async () => {
    for (let n = 1; n <= 3; n++) await store(n);
    const read = new LiveRead<StoredEvent>((signal) =>
      readStoredEvents(backbone.js, { stream: STREAM, startOffset: 1, filterSubject: streamSubjects(STREAM), meanEventBytes: 1, signal }),
    );
    try {
      await read.waitFor(3);
      const before = await consumerNames(backbone.jsm, STREAM);
      // Silent for longer than the read allows: the fault lasts that long, nothing is waited for.
      await whileFrozen(nats.pid, () => sleep(READ_STALL_MS + 1_000));
      for (let n = 4; n <= 6; n++) await store(n);
      const items = await read.waitFor(6);
      expect(items.map((e) => e.offset)).toEqual([1, 2, 3, 4, 5, 6]);
      const after = await consumerNames(backbone.jsm, STREAM);
      expect([...after].some((name) => !before.has(name)), `a new consumer besides ${[...before]}: ${[...after]}`).toBe(true);
    } finally {
      await read.stop();
    }
  });
});

describe("errors of a read", () => {
  it("a stalled read is backbone trouble, worth asking again", () => {
    const stalled = new ReadStalledError(STREAM, READ_STALL_MS);
    expect(isBackboneUnavailable(stalled)).toBe(true);
    expect(isConnectionEnding(stalled)).toBe(false);
  });

  it("a request on a closed connection is backbone trouble, but not worth asking again on it", async () => {
    const own = await connectBackbone(nats.url, "closed-connection-test");
    await own.nc.close();
    const err = await own.jsm.streams.info(STREAM).then(() => undefined, (e: unknown) => e);
    expect(isBackboneUnavailable(err), String(err)).toBe(true);
    expect(isConnectionEnding(err), String(err)).toBe(true);
  });
});
