import { Agent, request } from "undici";
import type { NetworkPolicy } from "./network-policy.js";

const FETCH_TIMEOUT_MS = 5_000;
/** A key set is a few KiB; more is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * GETs JSON from a URL the network policy allows, on the address it checked (an identity
 * provider's JWKS): no redirects, bounded in time and size.
 */
export function fetchJsonThroughPolicy(policy: NetworkPolicy): (url: URL) => Promise<unknown> {
  const agent = new Agent({ connect: { lookup: policy.lookup } });
  return async (url) => {
    await policy.checkUrl(url.href);
    const response = await request(url, { dispatcher: agent, headersTimeout: FETCH_TIMEOUT_MS, bodyTimeout: FETCH_TIMEOUT_MS });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`GET ${url.href} answered ${response.statusCode}`);
    }
    const length = Number(response.headers["content-length"] ?? 0);
    if (length > MAX_BODY_BYTES) {
      await response.body.dump();
      throw new Error(`GET ${url.href}: ${length} bytes is not a key set`);
    }
    return response.body.json();
  };
}
