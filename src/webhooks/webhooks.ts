import { Kvm } from "@nats-io/kv";
import type { FastifyBaseLogger } from "fastify";
import type { Backbone } from "../backbone/connection.js";
import { openStateBucket } from "../backbone/state-streams.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Schemas } from "../schema/registry.js";
import { WebhookBacklogs } from "./backlogs.js";
import { Deliverer } from "./delivery.js";
import { Dispatcher } from "./dispatcher.js";
import { WebhookLogs } from "./logs.js";
import { SharedEvents } from "./shared-events.js";
import type { NetworkPolicy } from "../net/network-policy.js";
import { WebhookService } from "./service.js";

export interface Webhooks {
  service: WebhookService;
  dispatcher: Dispatcher;
  /** The JetStream streams webhooks keep their registrations, progress and logs in. */
  stateStreams: readonly string[];
  /** Stops delivering once the attempts under way are done. */
  close(): Promise<void>;
}

/**
 * Opens the webhook buckets and streams, each with `stateReplicas` replicas, and starts
 * delivering for every active webhook, counted in `metrics`.
 */
export async function startWebhooks(
  backbone: Pick<Backbone, "nc" | "js" | "jsm">,
  schemas: Schemas,
  options: { policy: NetworkPolicy; log: FastifyBaseLogger; stateReplicas: number; metrics: Metrics },
): Promise<Webhooks> {
  const kvm = new Kvm(backbone.js);
  const registrations = await openStateBucket(kvm, backbone.jsm, "streamgate_webhooks", options.stateReplicas);
  const stats = await openStateBucket(kvm, backbone.jsm, "streamgate_webhook_stats", options.stateReplicas);
  const logs = await WebhookLogs.open(backbone, stats.kv, options.stateReplicas);
  const { policy, metrics } = options;
  const deliverer = new Deliverer(policy);
  const service = new WebhookService(backbone.js, backbone.jsm, registrations.kv, logs, schemas, policy);
  const dispatcher = new Dispatcher(
    registrations.kv,
    {
      ...backbone,
      schemas,
      deliverer,
      events: new SharedEvents(schemas),
      logs,
      log: options.log,
      metrics,
      disable: (id, reason) => service.disable(id, reason),
    },
    options.log,
  );
  await dispatcher.start();
  const backlogs = new WebhookBacklogs(backbone.jsm, () => dispatcher.registered());
  metrics.webhooks.observe({ webhooks: () => dispatcher.registered(), backlogs: () => backlogs.read() });
  return {
    service,
    dispatcher,
    stateStreams: [registrations.stream, stats.stream, ...WebhookLogs.streams],
    async close() {
      await dispatcher.stop();
      await deliverer.close();
    },
  };
}
