/**
 * How long each fault lasts and how hard the load is: short unless FAULT_SUITE=full, which
 * `npm run test:faults` sets for the durations of issue 13. (Not a STREAMGATE_
 * name: the gateways inherit the environment and refuse STREAMGATE_ variables they do not know.)
 */
export const FULL = process.env.FAULT_SUITE === "full";

export interface Durations {
  /** Events per second, all publishers together, outside the receiver-down fault. */
  rate: number;
  publishers: number;
  /** Load before the fault is injected. */
  warmUpMs: number;
  /** Load after the fault is over. */
  coolDownMs: number;
  /** How long a killed NATS node or gateway stays down. */
  nodeDownMs: number;
  partitionMs: number;
  clusterStopMs: number;
  receiverDownMs: number;
  /** Events published while the receiver is down. */
  receiverDownEvents: number;
  /** How long one event may take to be stored, retries included. */
  publishDeadlineMs: number;
  /** How long readers and receivers may take to get every stored event once publishing stopped. */
  drainMs: number;
}

export const DURATIONS: Durations = FULL
  ? {
      rate: 100,
      // Enough for the receiver-down fault's 10,000 events in 60 s; they take turns at the rate.
      publishers: 16,
      warmUpMs: 5_000,
      coolDownMs: 10_000,
      nodeDownMs: 20_000,
      partitionMs: 30_000,
      clusterStopMs: 30_000,
      receiverDownMs: 60_000,
      receiverDownEvents: 10_000,
      publishDeadlineMs: 120_000,
      // A maxInFlight-1 webhook delivers 10,000 piled-up events one at a time.
      drainMs: 400_000,
    }
  : {
      rate: 40,
      publishers: 8,
      warmUpMs: 2_000,
      coolDownMs: 3_000,
      nodeDownMs: 3_000,
      partitionMs: 5_000,
      clusterStopMs: 8_000,
      receiverDownMs: 10_000,
      receiverDownEvents: 1_500,
      publishDeadlineMs: 60_000,
      drainMs: 60_000,
    };

/** A test's timeout: its fault, its load and drain, and room for the cluster to settle. */
export function testTimeoutMs(faultMs: number): number {
  return DURATIONS.warmUpMs + faultMs + DURATIONS.coolDownMs + DURATIONS.publishDeadlineMs + DURATIONS.drainMs + 60_000;
}
