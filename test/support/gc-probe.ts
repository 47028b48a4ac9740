/**
 * Preloaded into a child gateway run with --expose-gc (`node --expose-gc --import tsx --import
 * <this file> ...`), never by the gateway itself: asked over the IPC channel, it runs a full
 * garbage collection and answers process.memoryUsage() right after, so a test can tell memory
 * the process still holds from garbage and from what its allocators merely keep around.
 */
export interface GcRequest {
  kind: "gc";
  id: number;
}

export interface GcDone {
  kind: "gc-done";
  id: number;
  /** False when node runs without --expose-gc: nothing was collected. */
  collected: boolean;
  memory: NodeJS.MemoryUsage;
}

process.on("message", (m: Partial<GcRequest>) => {
  if (m?.kind !== "gc") return;
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice: the first pass may leave what only finalizers it ran have released.
  gc?.();
  gc?.();
  const done: GcDone = { kind: "gc-done", id: m.id ?? 0, collected: gc !== undefined, memory: process.memoryUsage() };
  process.send?.(done);
});
