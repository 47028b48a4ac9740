import { describe, expect, it } from "vitest";
import { PermissionDeniedError } from "./permission-denied-error.js";
import { allows, authorize, mayRead, type Intent } from "./grants.js";
import type { Grant, Principal } from "./principal.js";

const principal = (...grants: Grant[]): Principal => ({ kind: "token", name: "t", grants });
// The example grants of PROTOCOL.md section 9.2.
const example = principal(
  { streams: ["orders"], actions: ["subscribe"], keys: ["ord-17", "ord-18"] },
  { streams: ["metrics", "audit-*"], actions: ["subscribe", "publish"], types: ["demo.metrics.v1.MetricSample"] },
  { streams: ["*"], actions: ["admin"] },
);
const SAMPLE = "demo.metrics.v1.MetricSample";

describe("the example grants of section 9.2", () => {
  it.each<[string, Intent, boolean]>([
    ["a read of one granted key", { action: "subscribe", stream: "orders", key: "ord-17" }, true],
    ["a read of another key", { action: "subscribe", stream: "orders", key: "ord-19" }, false],
    ["a read of every key of a key-narrowed stream", { action: "subscribe", stream: "orders" }, false],
    ["a publish where only subscribe is granted", { action: "publish", stream: "orders", key: "ord-17", types: ["demo.orders.v1.OrderShipped"] }, false],
    ["a read within the granted types", { action: "subscribe", stream: "metrics", types: [SAMPLE] }, true],
    ["a read of every type of a type-narrowed stream", { action: "subscribe", stream: "metrics" }, false],
    ["a publish of the granted type on a prefixed stream", { action: "publish", stream: "audit-eu", types: [SAMPLE], key: "cpu" }, true],
    ["a prefix is not a substring", { action: "subscribe", stream: "xaudit-eu", types: [SAMPLE] }, false],
    ["admin on any stream", { action: "admin", stream: "anything" }, true],
    ["subscribe through an admin-only grant", { action: "subscribe", stream: "anything" }, false],
  ])("%s", (_, intent, allowed) => {
    expect(allows(example, intent)).toBe(allowed);
    if (allowed) expect(() => authorize(example, intent)).not.toThrow();
    else expect(() => authorize(example, intent)).toThrow(PermissionDeniedError);
  });

  it("a refusal names what the grant allows", () => {
    expect(() => authorize(example, { action: "subscribe", stream: "orders" })).toThrow(
      "subscribe on stream orders is not granted: the grant allows only key= one of ord-17, ord-18",
    );
    expect(() => authorize(example, { action: "publish", stream: "orders", key: "ord-17" })).toThrow("no grant allows publish on orders");
  });

  it("lists a stream readable with some filter, and not one granted for admin only", () => {
    expect(["orders", "metrics", "audit-x", "other"].filter((s) => mayRead(example, s))).toEqual(["orders", "metrics", "audit-x"]);
  });

  it("no grants allow nothing; auth off allows everything", () => {
    expect(allows(principal(), { action: "subscribe", stream: "orders" })).toBe(false);
    expect(allows({ kind: "anonymous", name: "anonymous", grants: "all" }, { action: "admin", stream: "orders" })).toBe(true);
  });
});
