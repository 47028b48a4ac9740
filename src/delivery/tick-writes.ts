/** What can hold writes back and let them go together: a socket, or an HTTP response. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

const corked = new Set<Corkable>();

function uncorkAll(): void {
  for (const target of corked) target.uncork();
  corked.clear();
}

/**
 * Holds the target's writes until the current turn of the event loop ends, so every frame a
 * client gets in one turn (a live feed appends a burst of events at once) leaves in one write
 * instead of one system call each. One timer serves every target.
 */
export function corkUntilTurnEnds(target: Corkable): void {
  if (corked.has(target)) return;
  if (corked.size === 0) setImmediate(uncorkAll);
  corked.add(target);
  target.cork();
}
