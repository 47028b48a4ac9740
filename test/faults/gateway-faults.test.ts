/**
 * Faults of the gateways and of a webhook receiver under load (issue 13): a gateway killed
 * (its clients resume through the load balancer, its webhooks are taken over) and restarted;
 * a receiver down while events pile up. One topology, the faults in sequence.
 */
import { describe, expect, it } from "vitest";
import { sleep, until } from "../support/wait.js";
import { expectNoHarm } from "./bars.js";
import { faultClusterFor } from "./fault-cluster.js";
import { DURATIONS, testTimeoutMs } from "./mode.js";
import { seconds } from "./report.js";
import { runFault } from "./scenario.js";
import { busiestGateway, strandedBy, takeoverTimes } from "./takeover.js";
import { ANSWER_DELAY_MS } from "./webhooks.js";

const SUITE = "gateway-faults";
/** Issue 13: a dead gateway's webhook deliveries are taken over within 3 s. */
const TAKEOVER_MS = 3_000;
/** How long a takeover is waited for, to measure it when it misses the bar. */
const TAKEOVER_WAIT_MS = 60_000;
/** How long receivers hold each delivery while a gateway is being caught holding some. */
const HOLD_MS = 300;

const env = faultClusterFor(SUITE);

describe("gateway and receiver faults, under load", () => {
  it(
    "kill -9 a gateway: its readers resume through the balancer, its webhooks are taken over within 3 s; then restart it",
    async () => {
      let takeover: Record<string, number | undefined> = {};
      const run = await runFault(SUITE, env().cluster, "gateway killed", async (workload) => {
        const { gateways } = env().cluster;
        // A kill that strands no delivery would take nothing over: receivers answer slowly
        // until a gateway is caught holding deliveries, and that one is killed.
        for (const sink of workload.webhooks) sink.answerDelayMs = HOLD_MS;
        const { pid, held } = await busiestGateway(workload.webhooks, () => gateways.map((g) => g.pid), 15_000);
        const gateway = gateways.find((g) => g.pid === pid)!;
        const killedAt = Date.now();
        try {
          await gateway.kill();
          for (const sink of workload.webhooks) sink.answerDelayMs = ANSWER_DELAY_MS;
          const stranded = await strandedBy(held, 10_000);
          expect(stranded.size, "webhooks with a delivery cut off by the kill").toBeGreaterThan(0);
          takeover = await takeoverTimes(stranded, pid, killedAt, TAKEOVER_WAIT_MS);
          await sleep(Math.max(0, DURATIONS.nodeDownMs - (Date.now() - killedAt)));
          const taken = Object.entries(takeover).map(([hook, ms]) => [`webhook ${hook} taken over after s`, ms === undefined ? `not within ${seconds(TAKEOVER_WAIT_MS)}` : seconds(ms)]);
          const cut = [...stranded].map(([sink, offsets]) => `${sink.log.name}@${offsets.join(",")}`).join(" ");
          return { killed: gateway.name, "deliveries cut off": cut, ...Object.fromEntries(taken) };
        } finally {
          await gateway.start();
        }
      });
      expectNoHarm(run);
      for (const [hook, ms] of Object.entries(takeover)) {
        expect.soft(ms, `webhook ${hook}: its deliveries cut off by the kill sent again by another gateway within ${TAKEOVER_WAIT_MS} ms`).toBeDefined();
        expect.soft(ms ?? Infinity, `webhook ${hook}: takeover after the kill (ms)`).toBeLessThanOrEqual(TAKEOVER_MS);
      }
    },
    testTimeoutMs(DURATIONS.nodeDownMs + TAKEOVER_WAIT_MS),
  );

  it(
    `a webhook receiver down for ${DURATIONS.receiverDownMs / 1000} s while ${DURATIONS.receiverDownEvents} events pile up`,
    async () => {
      let piledUp = 0;
      const run = await runFault(SUITE, env().cluster, "webhook receiver down", async (workload) => {
        const sink = workload.webhooks[0]!;
        const { publishers } = workload;
        const storedBefore = publishers.stored;
        const downAt = Date.now();
        sink.down = true;
        try {
          publishers.rate = DURATIONS.receiverDownEvents / (DURATIONS.receiverDownMs / 1000);
          await until(() => publishers.stored - storedBefore >= DURATIONS.receiverDownEvents, `${DURATIONS.receiverDownEvents} events stored`, 3 * DURATIONS.receiverDownMs);
          await sleep(Math.max(0, DURATIONS.receiverDownMs - (Date.now() - downAt)));
          piledUp = publishers.stored - storedBefore;
        } finally {
          publishers.rate = DURATIONS.rate;
          sink.down = false;
        }
        const upAt = Date.now();
        const pending = publishers.logs.flatMap((log) => log.published.map((p) => p.offset));
        await until(() => sink.hasAll(pending), `webhook ${sink.log.name} caught up`, DURATIONS.drainMs);
        return { receiver: `webhook ${sink.log.name}`, "down for s": seconds(upAt - downAt), "events piled up": piledUp, "caught up after s": seconds(Date.now() - upAt) };
      });
      expect(piledUp).toBeGreaterThanOrEqual(DURATIONS.receiverDownEvents);
      expectNoHarm(run);
    },
    // A maxInFlight-1 webhook delivers the pile one at a time: it may take the drain time twice (catch-up, then drain).
    testTimeoutMs(3 * DURATIONS.receiverDownMs + DURATIONS.drainMs),
  );
});
