import { randomBytes } from "node:crypto";
import { z } from "zod";

/** A webhook as stored in the registrations bucket. */
export interface Webhook {
  id: string;
  url: string;
  stream: string;
  types?: string[];
  key?: string;
  description?: string;
  headers: Record<string, string>;
  format: "envelope" | "cloudevents";
  maxInFlight: number;
  /** Delays before each retry ("5s", "30m"); when they run out the event becomes a dead letter. */
  retrySchedule: string[];
  timeoutMs: number;
  status: "active" | "paused" | "disabled";
  /** Why a 410 or an operator disabled it. */
  disabledReason?: string;
  /** The current secret first; a rotated-out one stays, with its expiry, for 24 h. */
  secrets: { secret: string; expiresAt?: string }[];
  createdAt: string;
  updatedAt: string;
  /** Bumped when delivery must restart (replay, new filters): workers start afresh. */
  generation: number;
}

export const DEFAULT_RETRY_SCHEDULE = ["5s", "5m", "30m", "2h", "5h", "10h", "14h", "20h", "24h"];
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Headers the gateway sets itself, or that HTTP reserves for the connection: not a webhook's to set. */
const RESERVED_HEADERS =
  /^(webhook-|streamgate-|ce-|content-|host$|connection$|transfer-encoding$|user-agent$|expect$|upgrade$|keep-alive$|te$|trailer$|proxy-)/i;

const secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be whsec_ followed by base64")
  .refine((s) => {
    const bytes = Buffer.from(s.slice(6), "base64").length;
    return bytes >= 24 && bytes <= 64;
  }, "must hold 24 to 64 bytes");

const duration = z.string().regex(DURATION, 'a duration such as "500ms", "5s", "30m", "2h"');
const headers = z
  .record(
    z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "a header name"),
    // What HTTP/1.1 can carry in a field value: visible ASCII, spaces and tabs.
    z.string().max(1024).regex(/^[\t\x20-\x7e]*$/, "printable ASCII"),
  )
  .refine((h) => Object.keys(h).every((name) => !RESERVED_HEADERS.test(name)), "may not set webhook-, streamgate-, ce- or content- headers")
  .refine((h) => Object.keys(h).length <= 32, "at most 32 headers");

export const positionFields = {
  from: z.union([z.number(), z.literal("first"), z.literal("now")]).optional(),
  since: z.string().optional(),
  last: z.number().optional(),
};

/** What both create and PATCH may set. */
const settings = {
  description: z.string().max(1024).optional(),
  headers: headers.optional(),
  format: z.enum(["envelope", "cloudevents"]).optional(),
  maxInFlight: z.number().int().min(1).max(1000).optional(),
  retrySchedule: z.array(duration).max(50).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  paused: z.boolean().optional(),
};
const url = z.string().min(1).max(2048);
const types = z.array(z.string()).min(1);

export const createWebhookInput = z
  .object({
    url,
    stream: z.string().min(1),
    types: types.optional(),
    key: z.string().optional(),
    ...positionFields,
    secret: secret.optional(),
    ...settings,
  })
  .strict();

/** Filters given as null are cleared. */
export const patchWebhookInput = z
  .object({ url: url.optional(), types: types.nullable().optional(), key: z.string().nullable().optional(), ...settings })
  .strict();

export const replayInput = z.object(positionFields).strict();

export function durationMs(text: string): number {
  const [, amount, unit] = DURATION.exec(text)!;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

export function newWebhookId(): string {
  return "wh_" + randomBytes(12).toString("hex");
}

export function newSecret(): string {
  return "whsec_" + randomBytes(32).toString("base64");
}

/** Secrets to sign with now: the current one and any rotated out less than 24 h ago. */
export function signingSecrets(webhook: Webhook, now = Date.now()): string[] {
  return webhook.secrets.filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now).map((s) => s.secret);
}

/** The delay before retry number `attempt` (1-based), with ±20% jitter; undefined when out of retries. */
export function retryDelayMs(webhook: Webhook, attempt: number): number | undefined {
  const delay = webhook.retrySchedule[attempt - 1];
  if (delay === undefined) return undefined;
  return Math.round(durationMs(delay) * (0.8 + Math.random() * 0.4));
}
