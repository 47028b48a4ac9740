import type { GapNotice } from "@streamgate/protocol/position";
import type { AttemptRecord, AttemptsLogEntry, DeadLetter, GapEntry } from "../webhooks/logs.js";
import type { SeenGap } from "../webhooks/tally.js";
import type { WebhookView } from "../webhooks/service.js";
import { createWebhookInput, type Webhook } from "../webhooks/registration.js";
import { component, count, jsonSchemaOf, objectSchema, offset, optional, ref, text, time, type JsonSchema, type PropertiesOf } from "./json-schema.js";
import { gapNoticeProperties, gapNoticeSchema, pathParameters } from "./stream-shapes.js";

export const webhookParameter = pathParameters({ id: "the webhook's id (wh_ and 24 hex digits)" });

const strings: JsonSchema = { type: "array", items: text };

const seenGapProperties: PropertiesOf<SeenGap> = { ...gapNoticeProperties, at: time };

const viewProperties: PropertiesOf<WebhookView> = {
  id: text,
  url: text,
  stream: text,
  types: optional(strings),
  key: optional(text),
  description: optional(text),
  headers: { ...strings, description: "the names of the custom headers; their values are never shown" },
  format: jsonSchemaOf(createWebhookInput.shape.format),
  maxInFlight: { type: "integer", minimum: 1 },
  retrySchedule: strings,
  timeoutMs: { type: "integer" },
  status: { type: "string", enum: ["active", "paused", "disabled"] satisfies Webhook["status"][] },
  disabledReason: optional(text),
  createdAt: time,
  updatedAt: time,
  position: { ...offset, description: "the next offset to deliver" },
  lastError: optional(objectSchema<{ at: string; message: string }>({ at: time, message: text })),
  lastGap: optional(objectSchema<SeenGap>(seenGapProperties)),
  counts: objectSchema<WebhookView["counts"]>({ delivered: count, failedAttempts: count, deadLetters: count, duplicates: count }),
};

const secret: JsonSchema = { type: "string", description: "whsec_ and base64: shown here and nowhere else" };

const gap = optional(ref(gapNoticeSchema, "the position asked for is no longer held: delivery starts at first"));

export const webhookSchema = component("Webhook", objectSchema<WebhookView>(viewProperties, "A webhook, without its secret."));

export const createdWebhookSchema = component(
  "CreatedWebhook",
  objectSchema<WebhookView & { gap?: GapNotice; secret: string }>({ ...viewProperties, gap, secret }, "A new webhook, with its secret."),
);

export const replayedWebhookSchema = component("ReplayedWebhook", objectSchema<WebhookView & { gap?: GapNotice }>({ ...viewProperties, gap }));

export const rotatedWebhookSchema = component(
  "RotatedWebhook",
  objectSchema<WebhookView & { secret: string }>({ ...viewProperties, secret: { ...secret, description: "the new secret; for 24 h the old one signs too" } }),
);

const attemptSchema = objectSchema<AttemptRecord>({
  offset,
  eventId: text,
  attempt: { type: "integer", minimum: 1 },
  at: time,
  durationMs: count,
  status: optional({ type: "integer", description: "the receiver's HTTP status" }),
  error: optional(text),
  response: optional({ type: "string", description: "the start of the receiver's answer, at most 1 KiB" }),
});

const gapEntrySchema = objectSchema<GapEntry>({ kind: { type: "string", enum: ["gap"] }, ...seenGapProperties });

export const attemptsSchema = component(
  "WebhookAttempts",
  objectSchema<{ attempts: AttemptsLogEntry[] }>({ attempts: { type: "array", items: { anyOf: [attemptSchema, gapEntrySchema] } } }, "The delivery log, newest first."),
);

export const deadLettersSchema = component(
  "WebhookDeadLetters",
  objectSchema<{ deadLetters: DeadLetter[] }>({
    deadLetters: {
      type: "array",
      items: objectSchema<DeadLetter>({ offset, eventId: text, attempts: count, at: time, lastError: text }),
    },
  }),
);

export const webhookComponents = [
  webhookSchema,
  createdWebhookSchema,
  replayedWebhookSchema,
  rotatedWebhookSchema,
  attemptsSchema,
  deadLettersSchema,
];
