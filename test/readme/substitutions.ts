/**
 * The one table of what the test replaces in README text (blocks, their expected output and
 * configuration alike) before using it: the README's fixed addresses become the ones of what the
 * test started on free ports, and the README's placeholders get values.
 */

export interface Addresses {
  /** The section's gateway, http://127.0.0.1:<port> (what `npm start` listens on with PORT set). */
  gateway: string;
  /** Its embedded nats-server's port (STREAMGATE_NATS_PORT). */
  natsPort: number;
  /** The origin the test's browser pages are served from. */
  pageOrigin: string;
  /** A webhook receiver the test runs, http://127.0.0.1:<port>/hook. */
  webhookReceiver: string;
}

interface Substitution {
  pattern: RegExp;
  value: (a: Addresses) => string;
  /** A block naming it talks to the section's gateway, which is then started if it is not running. */
  gateway: boolean;
}

const SUBSTITUTIONS: Substitution[] = [
  // The gateway where the README runs it locally (`npm start`: 127.0.0.1:8080) ...
  { pattern: /\b(?:localhost|127\.0\.0\.1):8080\b/g, value: (a) => new URL(a.gateway).host, gateway: true },
  // ... and where the production examples put it.
  { pattern: /https:\/\/events\.example\.com/g, value: (a) => a.gateway, gateway: true },
  // STREAMGATE_NATS_PORT=4222 and nats://127.0.0.1:4222.
  { pattern: /(?<=[:=])4222\b/g, value: (a) => String(a.natsPort), gateway: true },
  // The browser page's own origin, which the configuration allows.
  { pattern: /https:\/\/app\.example\.com/g, value: (a) => a.pageOrigin, gateway: false },
  // A webhook receiver's public address (this one must resolve: the gateway checks at registration).
  { pattern: /https:\/\/receiver\.example\/hook/g, value: (a) => a.webhookReceiver, gateway: false },
  // An API key's hash, which the reader fills in from `streamgate keys create`.
  { pattern: /<hex>/g, value: () => "0".repeat(64), gateway: false },
];

export function substitute(text: string, addresses: Addresses): string {
  return SUBSTITUTIONS.reduce((out, s) => out.replace(s.pattern, () => s.value(addresses)), text);
}

/** Whether `text` talks to the section's gateway (names its address or its NATS port). */
export function addressesGateway(text: string): boolean {
  return SUBSTITUTIONS.some((s) => s.gateway && new RegExp(s.pattern.source).test(text));
}
