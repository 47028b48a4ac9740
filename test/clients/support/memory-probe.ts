/**
 * Loaded into a gateway child process by tests (`node --expose-gc --import <this file> ...`),
 * never by the gateway itself: on SIGUSR2 it runs a full garbage collection and writes one
 * line `[memory-probe] {...process.memoryUsage()}` to stderr, so a test can tell memory the
 * process still holds from memory its allocators merely keep around.
 */
process.on("SIGUSR2", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  process.stderr.write(`[memory-probe] ${JSON.stringify({ gc: gc !== undefined, ...process.memoryUsage() })}\n`);
});
