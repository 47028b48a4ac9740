import { isIP } from "node:net";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { Agent, errors, request } from "undici";
import { ForbiddenTargetError, hostOf, type NetworkPolicy } from "../net/network-policy.js";
import type { WebhookEvent } from "./payload.js";
import { Signer } from "./signer.js";
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

  /** What a worker sends one webhook's attempts through, with all that is the same for each attempt made once. */
  to(webhook: Webhook): WebhookTarget {
    return new WebhookTarget(webhook, this.#agent, this.policy);
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** One webhook's receiver: its URL checked and each secret's signer made once, not per attempt. */
export class WebhookTarget {
  readonly #url: URL;
  /** Why the policy refuses the URL's IP literal; a name is checked at connect time. */
  readonly #refused: string | undefined;
  readonly #signers = new Map<string, Signer>();

  constructor(
    private readonly webhook: Webhook,
    private readonly agent: Agent,
    policy: NetworkPolicy,
  ) {
    this.#url = new URL(webhook.url);
    const host = hostOf(this.#url);
    const problem = isIP(host) ? policy.problem(host) : undefined;
    this.#refused = problem && ForbiddenTargetError.notAllowed(this.#url.hostname, problem).message;
  }

  async attempt(event: WebhookEvent, attempt: number): Promise<AttemptOutcome> {
    const { webhook } = this;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    if (this.#refused) return { kind: "failed", failure: "forbidden", error: this.#refused, durationMs: elapsed() };
    try {
      const { body, headers } = this.#message(event, attempt);
      const response = await request(this.#url, {
        method: "POST",
        headers,
        body,
        dispatcher: this.agent,
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

  #message(event: WebhookEvent, attempt: number): { body: string | Buffer; headers: Record<string, string> } {
    const { body, headers } = event.payload(this.webhook.format);
    const now = Date.now();
    const timestamp = Math.floor(now / 1000);
    const id = event.stored.id;
    const signatures = signingSecrets(this.webhook, now).map((secret) => this.#signer(secret).sign(id, timestamp, body));
    return {
      body,
      headers: {
        ...this.webhook.headers,
        ...headers,
        "user-agent": "streamgate-webhooks/1",
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signatures.join(" "),
        "streamgate-attempt": String(attempt),
      },
    };
  }

  #signer(secret: string): Signer {
    let signer = this.#signers.get(secret);
    if (!signer) this.#signers.set(secret, (signer = new Signer(secret)));
    return signer;
  }
}

/**
 * The start of a response, as text: listened to rather than iterated, which would cost an
 * async iterator and a promise per chunk on every delivery.
 */
function readSome(body: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let read = 0;
    // A decoder keeps a character cut at the limit out, so the text stays within the limit.
    const done = () => resolve(new StringDecoder("utf8").write(Buffer.concat(chunks).subarray(0, RESPONSE_LOG_BYTES)));
    body.on("data", (chunk: Buffer) => {
      if (read < RESPONSE_LOG_BYTES) chunks.push(chunk);
      read += chunk.length;
      if (read > RESPONSE_READ_LIMIT) {
        body.destroy();
        done();
      }
    });
    body.once("end", done);
    body.once("error", reject);
  });
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
