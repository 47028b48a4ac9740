/** What can hold writes back and let them go together: a socket, or an HTTP response. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Whoever corked a target and wants to hear when its writes went out: a method, not a closure per connection. */
export interface Uncorked {
  uncorked(): void;
}

/** Each corked target, with whom to tell once its writes went out. */
const corked = new Map<Corkable, Uncorked>();

function uncorkAll(): void {
  for (const [target, owner] of corked) {
    target.uncork();
    owner.uncorked();
  }
  corked.clear();
}

/**
 * Holds the target's writes until the current turn of the event loop ends, so every frame a
 * client gets in one turn (a live feed appends a burst of events at once) leaves in one write
 * instead of one system call each. One timer serves every target. `owner.uncorked()` runs after
 * the target let its writes go (what the kernel did not take is still buffered then).
 */
export function corkUntilTurnEnds(target: Corkable, owner: Uncorked): void {
  if (corked.has(target)) return;
  if (corked.size === 0) setImmediate(uncorkAll);
  corked.set(target, owner);
  target.cork();
}
