import { Presets, SingleBar } from "cli-progress";

/**
 * A bar on stderr over the offsets a tail replays (from where it starts to the stream's last
 * offset as it began). Drawn only when stderr is a terminal and stdout is not: with both on
 * one terminal the events scroll over the line the bar redraws.
 */
export class ReplayProgress {
  readonly #bar: SingleBar | undefined;
  #start: number | undefined;

  constructor(
    stream: string,
    private readonly lastOffset: number,
    start: number | undefined,
  ) {
    this.#start = start;
    const shown = process.stderr.isTTY && !process.stdout.isTTY;
    this.#bar = shown
      ? new SingleBar({ format: `replaying ${stream} [{bar}] {percentage}% | {value}/{total} offsets | {eta_formatted} left`, hideCursor: true }, Presets.shades_classic)
      : undefined;
  }

  /** The read got up to `next` (exclusive); `firstSeen` places a start that was not known (since=). */
  advance(next: number, firstSeen: number | undefined): void {
    if (!this.#bar) return;
    if (this.#start === undefined) this.#start = Math.min(firstSeen ?? next, next);
    const total = this.lastOffset - this.#start + 1;
    if (total <= 0) return;
    const done = Math.min(next - this.#start, total);
    if (!this.#bar.isActive) this.#bar.start(total, done);
    else this.#bar.update(done);
  }

  stop(): void {
    if (this.#bar?.isActive) this.#bar.stop();
  }
}
