import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PACKAGE_ROOT } from "./package-root.js";

/** The haproxy configuration of docs/deployment.md, with the two lines a deployment fills in. */
export const HAPROXY_TEMPLATE = join(PACKAGE_ROOT, "deploy", "haproxy.cfg");

export interface BalancedGateway {
  name: string;
  host: string;
  port: number;
}

/** The template with its {{BIND}} and {{SERVERS}} lines filled in; each must be there once. */
export async function renderHaproxyConfig(bind: { host: string; port: number }, gateways: readonly BalancedGateway[]): Promise<string> {
  const template = await readFile(HAPROXY_TEMPLATE, "utf8");
  const fill = (text: string, marker: string, lines: string[]) => {
    const at = new RegExp(`^([ \\t]*)\\{\\{${marker}\\}\\}[ \\t]*$`, "m");
    const found = at.exec(text);
    if (!found || at.exec(text.slice(found.index + found[0].length))) {
      throw new Error(`${HAPROXY_TEMPLATE} must hold the line {{${marker}}} once`);
    }
    const indent = found[1]!;
    return text.slice(0, found.index) + lines.map((line) => indent + line).join("\n") + text.slice(found.index + found[0].length);
  };
  const withBind = fill(template, "BIND", [`bind ${bind.host}:${bind.port}`]);
  return fill(
    withBind,
    "SERVERS",
    gateways.flatMap((gateway) => [
      `server ${gateway.name} ${gateway.host}:${gateway.port} check`,
      `server ${gateway.name}-unchecked ${gateway.host}:${gateway.port} backup`,
    ]),
  );
}
