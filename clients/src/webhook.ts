import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { AnyStreamDescriptor, ConsumedEvent } from "@streamgate/protocol/stream";
import { receivedFromEnvelope, type Envelope, type ReceivedEvent } from "@streamgate/protocol/envelope";
import { typed } from "./events.js";

export { WebhookVerificationError };

export interface VerifyOptions {
  /** The webhook's secret (whsec_…); during a rotation, either one. Several may be given. */
  secret: string | readonly string[];
  /** How old (or far in the future) webhook-timestamp may be. At most 300 s, the library's own bound. */
  toleranceSeconds?: number;
  now?: Date;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a webhook delivery (Standard Webhooks signature and timestamp) and returns its event,
 * typed. Throws WebhookVerificationError for anything tampered, stale or unsigned. Give the
 * body exactly as received: the signature covers its bytes.
 */
export function verifyWebhook<S extends AnyStreamDescriptor>(
  stream: S,
  delivery: { body: string | Uint8Array; headers: HeaderBag },
  options: VerifyOptions,
): ConsumedEvent<S> {
  const headers = normalize(delivery.headers);
  const body = typeof delivery.body === "string" ? delivery.body : new TextDecoder().decode(delivery.body);
  const sent = Number(headers["webhook-timestamp"]);
  const now = (options.now ?? new Date()).getTime() / 1000;
  const tolerance = Math.min(options.toleranceSeconds ?? 300, 300);
  if (!Number.isFinite(sent) || Math.abs(now - sent) > tolerance) {
    throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s from now`);
  }
  const secrets = typeof options.secret === "string" ? [options.secret] : options.secret;
  const verified = secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  });
  if (!verified) throw new WebhookVerificationError("no signature matches the secret");
  return typed(stream, received(headers, body));
}

/** The event in a delivery: the envelope, or a CloudEvents binary-mode message. */
function received(headers: Record<string, string>, body: string): ReceivedEvent {
  if (!headers["ce-specversion"]) return receivedFromEnvelope(JSON.parse(body) as Envelope);
  return {
    stream: headers["streamgate-stream"] ?? "",
    offset: Number(headers["streamgate-offset"]),
    id: headers["ce-id"] ?? "",
    type: headers["ce-type"] ?? "",
    key: headers["ce-subject"] === undefined ? undefined : percentDecoded(headers["ce-subject"]),
    time: new Date(headers["ce-time"] ?? 0),
    data: { json: JSON.parse(body) },
  };
}

function normalize(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => (out[name.toLowerCase()] = value));
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** A CloudEvents header value as sent (binding 3.1.3.2: UTF-8, percent-encoded); as it is when not valid percent-encoding. */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
