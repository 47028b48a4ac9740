import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { credentialOf, UnauthenticatedError } from "./authenticator.js";

const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl";

describe("credentialOf", () => {
  it("takes the Authorization header first, then the cookie, then the query when allowed", () => {
    const all = {
      headers: { authorization: "Bearer from-header", cookie: "streamgate_token=from-cookie" },
      query: { access_token: "from-query" },
    };
    expect(credentialOf(all, true)).toBe("from-header");
    expect(credentialOf({ ...all, headers: { cookie: all.headers.cookie } }, true)).toBe("from-cookie");
    expect(credentialOf({ ...all, headers: {} }, true)).toBe("from-query");
    expect(credentialOf({ ...all, headers: {} }, false)).toBeUndefined();
    expect(credentialOf({ headers: {} }, true)).toBeUndefined();
  });

  it("reads a bearer credential whatever the case of the scheme", () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN} `]) {
      expect(credentialOf({ headers: { authorization: header } }, false)).toBe(TOKEN);
    }
    expect(credentialOf({ headers: { authorization: "Bearer sgk_abc-_DEF" } }, false)).toBe("sgk_abc-_DEF");
  });

  it("refuses an Authorization header that is not one Bearer credential, without echoing it", () => {
    const malformed = ["", "Bearer", "Bearer ", `Basic ${TOKEN}`, `Bearer ${TOKEN} extra`, `Bearer ${TOKEN},x`, TOKEN, [`Bearer ${TOKEN}`, "Bearer other"]];
    for (const authorization of malformed) {
      const refusing = () => credentialOf({ headers: { authorization, cookie: `streamgate_token=${TOKEN}` } }, true);
      expect(refusing).toThrow(UnauthenticatedError);
      expect(refusing).toThrow(/Authorization header/);
      expect(refusing).not.toThrow(TOKEN);
    }
  });

  it("finds the cookie among others, unquoted, and counts an empty one as none", () => {
    expect(credentialOf({ headers: { cookie: `a=1; streamgate_token=${TOKEN}; b=2` } }, false)).toBe(TOKEN);
    expect(credentialOf({ headers: { cookie: `streamgate_token="${TOKEN}"` } }, false)).toBe(TOKEN);
    expect(credentialOf({ headers: { cookie: ["a=1", `streamgate_token=${TOKEN}`] } }, false)).toBe(TOKEN);
    expect(credentialOf({ headers: { cookie: `xstreamgate_token=${TOKEN}; streamgate_tokens=x` } }, false)).toBeUndefined();
    expect(credentialOf({ headers: { cookie: "streamgate_token=" }, query: { access_token: TOKEN } }, true)).toBe(TOKEN);
  });

  it("refuses access_token given twice when the query counts, and ignores it when it does not", () => {
    const twice = { headers: {}, query: { access_token: [TOKEN, "other"] } };
    expect(() => credentialOf(twice, true)).toThrow(UnauthenticatedError);
    expect(credentialOf(twice, false)).toBeUndefined();
  });

  it("throws nothing but UnauthenticatedError for random headers and queries", () => {
    const field = fc.option(fc.oneof(fc.string(), fc.array(fc.string())), { nil: undefined });
    fc.assert(
      fc.property(field, field, field, fc.boolean(), (authorization, cookie, accessToken, allow) => {
        try {
          const found = credentialOf({ headers: { authorization, cookie }, query: { access_token: accessToken } }, allow);
          expect(found === undefined || found.length > 0).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(UnauthenticatedError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
