/** The room rule of UnsentBudget: each connection's high water, and the floor while the gateway is over budget. */
import { expect, it } from "vitest";
import { UnsentBudget } from "./unsent-budget.js";

const KiB = 1024;

it("gives room below a connection's high water while the gateway is within budget, and only below the floor past it", () => {
  const budget = new UnsentBudget(100 * KiB);
  const slow = budget.open(64 * KiB, 16 * KiB);
  const other = budget.open(64 * KiB, 16 * KiB);

  expect(slow.holds(40 * KiB)).toBe(true);
  expect(slow.holds(64 * KiB)).toBe(false);
  expect(other.holds(20 * KiB)).toBe(true);
  expect(budget.exceeded).toBe(false);

  // 64 + 40 KiB held: over the budget. Whoever holds at least the floor waits; below it, not.
  expect(other.holds(40 * KiB)).toBe(false);
  expect(budget.exceeded).toBe(true);
  expect(slow.holds(63 * KiB)).toBe(false);
  const fresh = budget.open(64 * KiB, 16 * KiB);
  expect(fresh.holds(15 * KiB)).toBe(true);
  expect(fresh.holds(16 * KiB)).toBe(false);

  // What a closed connection held no longer counts.
  slow.close();
  fresh.close();
  expect(budget.exceeded).toBe(false);
  expect(other.holds(40 * KiB)).toBe(true);
});

it("with a floor at or above the high water, the budget never holds a connection back sooner", () => {
  const account = new UnsentBudget(KiB).open(8 * KiB, 16 * KiB);
  expect(account.holds(4 * KiB)).toBe(true);
  expect(account.holds(8 * KiB)).toBe(false);
});
