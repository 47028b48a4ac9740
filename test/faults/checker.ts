/**
 * Judges a fault run from what was recorded (observations.ts): for each reader and webhook
 * receiver, which stored events it lost, got twice or out of order, the 5xx it saw and its
 * longest stall; then one row per kind of reader.
 */
import { isServerError, type Arrival, type FaultWindow, type Published, type PublisherLog, type ReaderLog, type StatusSeen, type WebhookLog } from "./observations.js";

export interface CheckInput {
  fault: FaultWindow;
  publishers: PublisherLog[];
  readers: ReaderLog[];
  webhooks: WebhookLog[];
  /** Other clients that only ask (e.g. the webhook API), judged by the answers they got. */
  probes?: { name: string; statuses: StatusSeen[] }[];
}

/** What one reader or receiver got, against what was stored. */
export interface Verdict {
  name: string;
  /** Stored events it never got. */
  lost: number[];
  /** Deliveries of an offset it already had. */
  duplicated: number;
  /** Webhooks: why each duplicate was allowed (at-least-once window of the fault), or not. */
  duplicates: DuplicateCopy[];
  /** Pairs [before, after] where a first delivery came after a higher offset. */
  outOfOrder: [number, number][];
  /**
   * Events at an offset no publish answered, or an id at an offset other than its publish's
   * (stored twice, or answered wrongly), with what its publish was answered.
   */
  unexpected: (Arrival & { answered?: { offset: number; duplicate: boolean } })[];
  serverErrors: StatusSeen[];
  /** 503 with Retry-After: documented unavailability, counted but allowed. */
  unavailable: number;
  /** Longest time an already stored event waited, beyond the reader's previous delivery (ms). */
  longestStallMs: number;
}

export interface DuplicateCopy {
  offset: number;
  firstAt: number;
  againAt: number;
  /** Whether the first copy fell within the fault's at-least-once window, so its ack could be lost. */
  explained: boolean;
}

export interface Row {
  fault: string;
  /** "publish", "ws", "sse", "poll" or "webhook <name>". */
  reader: string;
  /** How many readers (or publishers) the row sums up. */
  count: number;
  events: number;
  lost: number;
  duplicated: number;
  unexplainedDuplicates: number;
  outOfOrder: number;
  unexpected: number;
  serverErrors: number;
  unavailable: number;
  longestStallMs: number;
}

export interface CheckResult {
  fault: FaultWindow;
  rows: Row[];
  verdicts: Verdict[];
  /** Webhooks whose counts.delivered differs from the distinct events their receiver accepted. */
  miscounted: { name: string; reported: number | undefined; accepted: number }[];
  /** Every 5xx a client saw, by who saw it (a reader's name, "publish", a probe's name). */
  serverErrors: ({ seenBy: string } & StatusSeen)[];
}

/** How long after a fault an ack of a delivery may still be lost: the webhook's timeout and the consumer's margin. */
export const ACK_MARGIN_MS = 5_000;

export function check(input: CheckInput): CheckResult {
  const published = input.publishers.flatMap((p) => p.published).sort((a, b) => a.offset - b.offset);
  const verdicts: Verdict[] = [];
  const rows: Row[] = [publishRow(input, published)];
  for (const kind of ["ws", "sse", "poll"] as const) {
    const mine = input.readers.filter((r) => r.kind === kind);
    const judged = mine.map((r) => judge(r.name, r.startedAt, r.arrivals, r.statuses, published, { ordered: true }));
    verdicts.push(...judged);
    if (mine.length > 0) rows.push(row(input.fault.name, kind, judged, published.length));
  }
  const miscounted: CheckResult["miscounted"] = [];
  for (const hook of input.webhooks) {
    const verdict = judge(hook.name, hook.startedAt, hook.arrivals, [], published, { ordered: hook.maxInFlight === 1 });
    verdict.duplicates = duplicateCopies(hook, input.fault);
    verdicts.push(verdict);
    rows.push(row(input.fault.name, `webhook ${hook.name}`, [verdict], published.length));
    const accepted = new Set(hook.arrivals.map((a) => a.offset)).size;
    if (hook.reportedDelivered !== accepted) miscounted.push({ name: hook.name, reported: hook.reportedDelivered, accepted });
  }
  for (const probe of input.probes ?? []) rows.push(probeRow(input.fault.name, probe.name, probe.statuses));
  const seenBy = (name: string, statuses: StatusSeen[]) => statuses.filter(isServerError).map((s) => ({ seenBy: name, ...s }));
  const serverErrors = [
    ...seenBy("publish", input.publishers.flatMap((p) => p.statuses)),
    ...verdicts.flatMap((v) => seenBy(v.name, v.serverErrors)),
    ...(input.probes ?? []).flatMap((p) => seenBy(p.name, p.statuses)),
  ];
  return { fault: input.fault, rows, verdicts, miscounted, serverErrors };
}

function publishRow(input: CheckInput, published: Published[]): Row {
  const statuses = input.publishers.flatMap((p) => p.statuses);
  const answered = new Map(published.map((p) => [p.id, p.offset]));
  // Where readers found each published id: at two offsets it was stored twice; at one other
  // than its answer's, the answer was wrong.
  const foundAt = new Map<string, Set<number>>();
  for (const arrival of input.readers.flatMap((r) => r.arrivals)) {
    if (answered.has(arrival.id)) foundAt.set(arrival.id, (foundAt.get(arrival.id) ?? new Set()).add(arrival.offset));
  }
  const storedTwice = [...foundAt.values()].filter((offsets) => offsets.size > 1).length;
  const answeredWrongly = [...foundAt].filter(([id, offsets]) => offsets.size === 1 && !offsets.has(answered.get(id)!)).length;
  return {
    fault: input.fault.name,
    reader: "publish",
    count: input.publishers.length,
    events: published.length,
    lost: input.publishers.reduce((sum, p) => sum + p.abandoned.length, 0),
    duplicated: storedTwice,
    unexplainedDuplicates: storedTwice,
    outOfOrder: 0,
    unexpected: answeredWrongly,
    serverErrors: statuses.filter(isServerError).length,
    unavailable: statuses.filter((s) => !isServerError(s) && s.status === 503).length,
    longestStallMs: Math.max(0, ...published.map((p) => p.at - p.firstTriedAt)),
  };
}

function probeRow(fault: string, reader: string, statuses: StatusSeen[]): Row {
  const none = { count: 1, events: 0, lost: 0, duplicated: 0, unexplainedDuplicates: 0, outOfOrder: 0, unexpected: 0, longestStallMs: 0 };
  return { fault, reader, ...none, serverErrors: statuses.filter(isServerError).length, unavailable: statuses.filter((s) => !isServerError(s) && s.status === 503).length };
}

function row(fault: string, reader: string, verdicts: Verdict[], events: number): Row {
  const sum = (of: (v: Verdict) => number) => verdicts.reduce((total, v) => total + of(v), 0);
  return {
    fault,
    reader,
    count: verdicts.length,
    events,
    lost: sum((v) => v.lost.length),
    duplicated: sum((v) => v.duplicated),
    unexplainedDuplicates: sum((v) => v.duplicates.filter((d) => !d.explained).length),
    outOfOrder: sum((v) => v.outOfOrder.length),
    unexpected: sum((v) => v.unexpected.length),
    serverErrors: sum((v) => v.serverErrors.length),
    unavailable: sum((v) => v.unavailable),
    longestStallMs: Math.max(0, ...verdicts.map((v) => v.longestStallMs)),
  };
}

/** published: sorted by offset. */
function judge(
  name: string,
  startedAt: number,
  arrivals: readonly Arrival[],
  statuses: readonly StatusSeen[],
  published: readonly Published[],
  { ordered }: { ordered: boolean },
): Verdict {
  const byOffset = new Map(published.map((p) => [p.offset, p]));
  const byId = new Map(published.map((p) => [p.id, p]));
  const seen = new Set<number>();
  const outOfOrder: [number, number][] = [];
  const unexpected: Verdict["unexpected"] = [];
  let duplicated = 0;
  let highest = 0;
  let longestStallMs = 0;
  /** The lowest stored offset not yet received, as an index into `published`. */
  let waiting = 0;
  let previousAt = startedAt;
  for (const arrival of arrivals) {
    const stored = byOffset.get(arrival.offset);
    if (!stored || stored.id !== arrival.id) {
      const answered = byId.get(arrival.id);
      unexpected.push({ ...arrival, ...(answered && { answered: { offset: answered.offset, duplicate: answered.duplicate } }) });
      continue;
    }
    if (seen.has(arrival.offset)) {
      duplicated++;
      continue;
    }
    const next = published[waiting];
    if (next) longestStallMs = Math.max(longestStallMs, arrival.at - Math.max(previousAt, next.at));
    previousAt = arrival.at;
    seen.add(arrival.offset);
    if (ordered && arrival.offset < highest) outOfOrder.push([highest, arrival.offset]);
    highest = Math.max(highest, arrival.offset);
    while (published[waiting] && seen.has(published[waiting]!.offset)) waiting++;
  }
  return {
    name,
    lost: published.filter((p) => !seen.has(p.offset)).map((p) => p.offset),
    duplicated,
    duplicates: [],
    outOfOrder,
    unexpected,
    serverErrors: statuses.filter(isServerError),
    unavailable: statuses.filter((s) => !isServerError(s) && s.status === 503).length,
    longestStallMs,
  };
}

/**
 * Every delivery of an offset the receiver had already accepted. At-least-once allows one when
 * the copy before it was accepted so close to the fault that its ack could be lost with the
 * gateway or node that held it: from the webhook's timeout and ack margin before the fault
 * to as long after it was over.
 */
function duplicateCopies(hook: WebhookLog, fault: FaultWindow): DuplicateCopy[] {
  const window = hook.timeoutMs + ACK_MARGIN_MS;
  const last = new Map<number, number>();
  const copies: DuplicateCopy[] = [];
  for (const arrival of hook.arrivals) {
    const before = last.get(arrival.offset);
    if (before !== undefined) {
      const explained = before >= fault.from - window && before <= fault.to + window;
      copies.push({ offset: arrival.offset, firstAt: before, againAt: arrival.at, explained });
    }
    last.set(arrival.offset, arrival.at);
  }
  return copies;
}
