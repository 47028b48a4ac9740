/**
 * A webhook a README command registered for the test's receiver: the gateway must deliver to
 * it, signed with the secret the registration answered, as clients/examples/webhook-receiver.ts
 * checks a delivery (verifyWebhook).
 */
import { verifyWebhook, WebhookVerificationError } from "../../clients/src/index.js";
import { streams } from "../../generated/streams/index.js";
import type { ReceivedRequest, Receiver } from "../support/webhook-receiver.js";
import { ReadmeFailure } from "./readme-blocks.js";

export interface RegisteredWebhook {
  id: string;
  stream: string;
  secret: string;
}

export async function verifiedDelivery(receiver: Receiver, webhook: RegisteredWebhook): Promise<void> {
  const stream = streams.find((s) => s.name === webhook.stream);
  if (!stream) throw new ReadmeFailure(`webhook ${webhook.id} is on ${webhook.stream}, which generated/streams does not declare`);
  const verifies = (request: ReceivedRequest) => {
    try {
      verifyWebhook(stream, { body: request.body, headers: request.headers }, { secret: webhook.secret });
      return true;
    } catch (err) {
      if (err instanceof WebhookVerificationError) return false;
      throw err;
    }
  };
  await receiver.until(() => receiver.requests.some((r) => r.webhookId !== "" && verifies(r)), `a delivery of webhook ${webhook.id} that verifies with its secret`, 30_000);
}
