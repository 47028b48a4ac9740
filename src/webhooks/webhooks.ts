import { Kvm } from "@nats-io/kv";
import type { FastifyBaseLogger } from "fastify";
import type { Backbone } from "../backbone/connection.js";
import type { Schemas } from "../schema/registry.js";
import { Deliverer } from "./delivery.js";
import { Dispatcher } from "./dispatcher.js";
import { WebhookLogs } from "./logs.js";
import { NetworkPolicy } from "./network-policy.js";
import { WebhookService } from "./service.js";

export interface Webhooks {
  service: WebhookService;
  dispatcher: Dispatcher;
  /** Stops delivering once the attempts under way are done. */
  close(): Promise<void>;
}

/** Opens the webhook buckets and streams, and starts delivering for every active webhook. */
export async function startWebhooks(
  backbone: Pick<Backbone, "nc" | "js" | "jsm">,
  schemas: Schemas,
  options: { allowedNetworks: string; log: FastifyBaseLogger },
): Promise<Webhooks> {
  const kvm = new Kvm(backbone.js);
  const registrations = await kvm.create("streamgate_webhooks", { history: 1 });
  const stats = await kvm.create("streamgate_webhook_stats", { history: 1 });
  const logs = await WebhookLogs.open(backbone.js, backbone.jsm, stats);
  const policy = new NetworkPolicy(options.allowedNetworks);
  const deliverer = new Deliverer(policy);
  const service = new WebhookService(backbone.js, backbone.jsm, registrations, logs, schemas, policy);
  const dispatcher = new Dispatcher(
    registrations,
    {
      ...backbone,
      schemas,
      deliverer,
      logs,
      log: options.log,
      disable: (id, reason) => service.disable(id, reason),
    },
    options.log,
  );
  await dispatcher.start();
  return {
    service,
    dispatcher,
    async close() {
      await dispatcher.stop();
      await logs.close();
      await deliverer.close();
    },
  };
}
