import { isIP } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { Agent, errors, request } from "undici";
import { Webhook as Signer } from "standardwebhooks";
import type { EncodedEvent } from "../fanout/encoded-event.js";
import type { JsonValue } from "@bufbuild/protobuf";
import { stringifyJson } from "../schema/json.js";
import { ForbiddenTargetError, hostOf, type NetworkPolicy } from "../net/network-policy.js";
import { signingSecrets, type Webhook } from "./registration.js";

/** What one HTTP attempt came to. */
export type AttemptOutcome =
  | { kind: "delivered"; status: number; durationMs: number; response: string }
  | {
      kind: "failed";
      /** rejected: the receiver answered, not with a 2xx; unreachable: it did not answer. */
      failure: "rejected" | "timeout" | "unreachable" | "forbidden";
      status?: number;
      error: string;
      durationMs: number;
      response?: string;
      /** From Retry-After on a 429 or 503. */
      retryAfterMs?: number;
      /** A 410: the receiver wants no more. */
      gone?: boolean;
    };

const RESPONSE_LOG_BYTES = 1024;
/** More of a response than this is not read: the connection is dropped instead. */
const RESPONSE_READ_LIMIT = 64 * 1024;

/** Sends events to webhook receivers: one HTTP POST per attempt, signed, never redirected. */
export class Deliverer {
  readonly #agent: Agent;

  constructor(private readonly policy: NetworkPolicy) {
    // Every connection dials through the policy's lookup, so the address checked is the one used.
    this.#agent = new Agent({ connect: { lookup: policy.lookup }, keepAliveTimeout: 10_000 });
  }

  async attempt(webhook: Webhook, event: EncodedEvent, attempt: number): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const url = new URL(webhook.url);
      const host = hostOf(url);
      const problem = isIP(host) ? this.policy.problem(host) : undefined;
      if (problem) {
        return { kind: "failed", failure: "forbidden", error: ForbiddenTargetError.notAllowed(url.hostname, problem).message, durationMs: elapsed() };
      }

      const { body, headers } = this.#message(webhook, event, attempt);
      const response = await request(url, {
        method: "POST",
        headers,
        body,
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(webhook.timeoutMs),
        headersTimeout: webhook.timeoutMs,
        bodyTimeout: webhook.timeoutMs,
      });
      const text = await readSome(response.body);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { kind: "delivered", status, durationMs: elapsed(), response: text };
      const retryAfter = status === 429 || status === 503 ? retryAfterMs(response.headers["retry-after"]) : undefined;
      return {
        kind: "failed",
        failure: "rejected",
        status,
        error: status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`,
        durationMs: elapsed(),
        response: text,
        ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
        ...(status === 410 && { gone: true }),
      };
    } catch (err) {
      const failure = failureOf(err);
      const error = failure === "timeout" ? `timed out after ${webhook.timeoutMs} ms` : describe(err);
      return { kind: "failed", failure, error, durationMs: elapsed() };
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  #message(webhook: Webhook, event: EncodedEvent, attempt: number): { body: string | Buffer; headers: Record<string, string> } {
    const { stored } = event;
    const envelope = event.envelope();
    let body: string | Buffer;
    const headers: Record<string, string> = { ...webhook.headers, "user-agent": "streamgate-webhooks/1" };
    if (webhook.format === "cloudevents") {
      Object.assign(headers, {
        "ce-specversion": "1.0",
        "ce-id": stored.id,
        "ce-type": stored.type,
        "ce-source": `/streams/${stored.stream}`,
        "ce-time": envelope.time,
        ...(stored.key !== undefined && { "ce-subject": cloudEventsHeaderValue(stored.key) }),
      });
      if (envelope.data === null) {
        body = Buffer.from(stored.data);
        headers["content-type"] = "application/x-protobuf";
      } else {
        body = stringifyJson(envelope.data as JsonValue);
        headers["content-type"] = "application/json";
      }
    } else {
      body = event.json;
      headers["content-type"] = "application/json";
    }
    const now = new Date();
    const signatures = signingSecrets(webhook, now.getTime()).map((secret) => new Signer(secret).sign(stored.id, now, body));
    Object.assign(headers, {
      "webhook-id": stored.id,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signatures.join(" "),
      "streamgate-stream": stored.stream,
      "streamgate-offset": String(stored.offset),
      "streamgate-attempt": String(attempt),
    });
    return { body, headers };
  }
}

async function readSome(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of body) {
    if (read < RESPONSE_LOG_BYTES) chunks.push(chunk);
    read += chunk.length;
    if (read > RESPONSE_READ_LIMIT) {
      body.destroy();
      break;
    }
  }
  // A decoder keeps a character cut at the limit out, so the text stays within the limit.
  return new StringDecoder("utf8").write(Buffer.concat(chunks).subarray(0, RESPONSE_LOG_BYTES));
}

/** Retry-After as seconds or an HTTP date; capped at a day. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const ms = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) * 1000 : Date.parse(raw) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 86_400_000) : undefined;
}

/** Why a request came to no answer. */
function failureOf(err: unknown): "timeout" | "unreachable" | "forbidden" {
  if (!(err instanceof Error)) return "unreachable";
  if (err instanceof ForbiddenTargetError || err.cause instanceof ForbiddenTargetError) return "forbidden";
  // The signal's timeout (a DOMException), or undici's own when the headers or body stall.
  const timedOut = err.name === "TimeoutError" || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError;
  return timedOut ? "timeout" : "unreachable";
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}

/**
 * An attribute as a CloudEvents HTTP header value (binding 3.1.3.2): its UTF-8 bytes, with
 * everything but printable ASCII, and space, `"` and `%`, percent-encoded. A key is any string;
 * sent as it is, a non-ASCII one is no valid header and the delivery could never be made.
 */
export function cloudEventsHeaderValue(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x25;
    out += plain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
