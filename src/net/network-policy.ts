import { BlockList, isIP } from "node:net";
import { lookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { lookup as lookupCallback } from "node:dns";
import { ApiError } from "@streamgate/protocol/errors";

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
  ["::", 96, "IPv4-compatible (deprecated)"],
  ["::ffff:0:0:0", 96, "IPv4-translated"],
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
  return { list, type, label: what };
}

export class ForbiddenTargetError extends ApiError {
  constructor(message: string) {
    super("invalid_argument", message);
    this.name = "ForbiddenTargetError";
  }

  /**
   * A refusal that names the host asked for and the class of address, never the address: what
   * the gateway's resolver answers is not for whoever registers a webhook to learn.
   */
  static notAllowed(host: string, reason: string): ForbiddenTargetError {
    return new ForbiddenTargetError(`${host} is not an allowed webhook target: ${reason}`);
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

  /** The class of address ("loopback", "private", ...) that may not be dialled, or undefined when it may. */
  problem(address: string): string | undefined {
    const family = isIP(address);
    if (family === 0) return "not an IP address";
    const type = family === 6 ? "ipv6" : "ipv4";
    if (this.#allowed.check(address, type)) return undefined;
    const embedded = family === 6 ? embeddedIPv4(address) : undefined;
    if (embedded) {
      const inner = this.problem(embedded.ipv4);
      // A mapped address is the IPv4 address itself to the socket: it goes where that one goes.
      if (embedded.form === "IPv4-mapped" || inner) return inner && `${inner} (in ${embedded.form} form)`;
    }
    return FORBIDDEN.find((range) => range.type === type && range.list.check(address, type))?.label;
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
      if (problem) throw ForbiddenTargetError.notAllowed(url.hostname, problem);
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
      if (bad) return callback(ForbiddenTargetError.notAllowed(hostname, bad), "", 0);
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

/**
 * The IPv4 address an IPv6 address carries, by the forms that carry one: IPv4-mapped
 * (::ffff:0:0/96), IPv4-compatible (::/96 but :: and ::1), IPv4-translated (::ffff:0:0:0/96),
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIPv4(address: string): { ipv4: string; form: string } | undefined {
  const g = ipv6Groups(address);
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  const ipv4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  if (zeros(0, 5) && g[5] === 0xffff) return { ipv4: ipv4(g[6]!, g[7]!), form: "IPv4-mapped" };
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return { ipv4: ipv4(g[6]!, g[7]!), form: "IPv4-compatible" };
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return { ipv4: ipv4(g[6]!, g[7]!), form: "IPv4-translated" };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { ipv4: ipv4(g[6]!, g[7]!), form: "NAT64" };
  if (g[0] === 0x2002) return { ipv4: ipv4(g[1]!, g[2]!), form: "6to4" };
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address, "::" expanded and a dotted tail folded in. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part ? part.split(":").map((group) => Number.parseInt(group, 16)) : []);
  if (tail === undefined) return parse(head);
  const [before, after] = [parse(head), parse(tail)];
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}
