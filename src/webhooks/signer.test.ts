/** The gateway's signatures are the standardwebhooks package's, byte for byte, whatever the body. */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { Signer } from "./signer.js";

const SECRET = "whsec_" + Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7)).toString("base64");

describe("Signer", () => {
  const bodies: [string, string | Buffer][] = [
    ["a JSON body", JSON.stringify({ stream: "orders", offset: 7, data: { orderId: "o-1", note: "naïve ✓" } })],
    ["an empty body", ""],
    ["protobuf bytes that are no UTF-8", Buffer.from([0x0a, 0x03, 0xff, 0xfe, 0x80, 0x12, 0x00, 0xc3])],
    ["protobuf bytes that are UTF-8", Buffer.from("\n\u0003abc", "utf8")],
  ];
  for (const [what, body] of bodies) {
    it(`signs ${what} as the package does, and the package verifies it`, () => {
      const at = new Date(Date.now() - 5_000);
      const seconds = Math.floor(at.getTime() / 1000);
      const signature = new Signer(SECRET).sign("evt-7", seconds, body);
      expect(signature).toBe(new Webhook(SECRET).sign("evt-7", at, body));
      const headers = { "webhook-id": "evt-7", "webhook-timestamp": String(seconds), "webhook-signature": signature };
      expect(() => new Webhook(SECRET).verify(body, headers, { jsonParse: false })).not.toThrow();
      expect(() => new Webhook(SECRET).verify(body, { ...headers, "webhook-id": "evt-8" }, { jsonParse: false })).toThrow();
    });
  }

  it("signs with its own secret: another secret's signature differs", () => {
    const other = "whsec_" + Buffer.alloc(32, 9).toString("base64");
    expect(new Signer(SECRET).sign("e", 1, "{}")).not.toBe(new Signer(other).sign("e", 1, "{}"));
    expect(new Signer(other).sign("e", 1, "{}")).toBe(new Webhook(other).sign("e", new Date(1000), "{}"));
  });
});
