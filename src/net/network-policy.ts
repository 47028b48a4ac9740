import { BlockList, isIP } from "node:net";
import { lookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { lookup as lookupCallback } from "node:dns";
import { ApiError } from "../protocol/errors.js";

/**
 * Where webhooks may not go: every address that is not the public internet. A receiver on
 * such an address (the gateway's own host, a private network, a cloud metadata service) would
 * let anyone who can register a webhook reach it. STREAMGATE_WEBHOOK_ALLOWED_NETWORKS opens
 * ranges on purpose (tests, internal receivers).
 */
const FORBIDDEN_V4 = [
  ["0.0.0.0", 8, "this network"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared address space (carrier-grade NAT, some metadata services)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4 relay"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
] as const;

const FORBIDDEN_V6 = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["64:ff9b::", 96, "IPv4/IPv6 translation"],
  ["64:ff9b:1::", 48, "IPv4/IPv6 translation"],
  ["100::", 64, "discard"],
  ["2001::", 23, "IETF protocol assignments"],
  ["2001:db8::", 32, "documentation"],
  ["2002::", 16, "6to4"],
  ["fc00::", 7, "unique local (private, cloud metadata)"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local"],
  ["ff00::", 8, "multicast"],
] as const;

/** Each forbidden range with its own BlockList, so a refusal can say which range it hit. */
const FORBIDDEN = [
  ...FORBIDDEN_V4.map(([network, prefix, what]) => forbidden(network, prefix, what, "ipv4")),
  ...FORBIDDEN_V6.map(([network, prefix, what]) => forbidden(network, prefix, what, "ipv6")),
];

function forbidden(network: string, prefix: number, what: string, type: "ipv4" | "ipv6") {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, label: `${what} (${network}/${prefix})` };
}

export class ForbiddenTargetError extends ApiError {
  constructor(message: string) {
    super("invalid_argument", message);
    this.name = "ForbiddenTargetError";
  }
}

export class NetworkPolicy {
  readonly #allowed = new BlockList();

  /** @param allowedNetworks CIDRs, e.g. "127.0.0.0/8,::1/128" */
  constructor(allowedNetworks = "") {
    for (const cidr of allowedNetworks.split(",").map((s) => s.trim()).filter(Boolean)) {
      const [address, bits] = cidr.split("/");
      const family = isIP(address ?? "");
      const prefix = Number(bits ?? (family === 6 ? 128 : 32));
      if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
        throw new Error(`STREAMGATE_WEBHOOK_ALLOWED_NETWORKS: "${cidr}" is not a CIDR`);
      }
      this.#allowed.addSubnet(address!, prefix, family === 6 ? "ipv6" : "ipv4");
    }
  }

  /** Why an address may not be dialled, or undefined when it may. */
  problem(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return `"${address}" is not an IP address`;
    const type = family === 6 ? "ipv6" : "ipv4";
    if (this.#allowed.check(address, type)) return undefined;
    const mapped = family === 6 ? mappedIPv4(address) : undefined;
    if (mapped !== undefined) {
      const inner = this.problem(mapped);
      return inner && `${address} maps to ${mapped}: ${inner}`;
    }
    const hit = FORBIDDEN.find((range) => range.type === type && range.list.check(address, type));
    return hit && `${address} is ${hit.label}`;
  }

  /** Checks a webhook URL: scheme, and every address its host resolves to now. */
  async checkUrl(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ForbiddenTargetError(`"${raw}" is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ForbiddenTargetError(`webhook URLs must be http or https, not ${url.protocol.slice(0, -1)}`);
    }
    if (url.username || url.password) throw new ForbiddenTargetError("webhook URLs may not carry credentials");
    const host = hostOf(url);
    const addresses = isIP(host) ? [host] : await resolve(host);
    for (const address of addresses) {
      const problem = this.problem(address);
      if (problem) throw new ForbiddenTargetError(`${url.hostname} is not an allowed webhook target: ${problem}`);
    }
    return url;
  }

  /**
   * A DNS lookup for the HTTP client that refuses forbidden addresses: it checks the address
   * that is actually dialled, so a name that resolves differently later (DNS rebinding) fails.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    lookupCallback(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as unknown as { address: string; family: number }[];
      const bad = list.map((a) => this.problem(a.address)).find(Boolean);
      if (bad) return callback(new ForbiddenTargetError(`${hostname} is not an allowed webhook target: ${bad}`), "", 0);
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** The host as an address or name, without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

async function resolve(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    throw new ForbiddenTargetError(`${host} does not resolve: ${(err as Error).message}`);
  }
}

/** ::ffff:a.b.c.d and ::ffff:XXXX:XXXX are IPv4 addresses in IPv6 clothing. */
function mappedIPv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}
