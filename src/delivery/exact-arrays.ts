/**
 * Small arrays every idle connection keeps (its deliveries, a WebSocket's subscriptions), changed
 * rarely: copied at their exact length, where a push would grow one to 17 slots.
 */
export function withItem<T>(items: readonly T[] | undefined, item: T): T[] {
  return (items ?? []).concat([item]);
}

export function withoutItem<T>(items: readonly T[], item: T): T[] {
  const at = items.indexOf(item);
  return at < 0 ? items.slice() : items.slice(0, at).concat(items.slice(at + 1));
}
