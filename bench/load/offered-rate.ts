/** Sends `total` items at `perSecond`, paced by the clock (bursts catch up after a late timer). */
export async function atOfferedRate(perSecond: number, total: number, send: (index: number) => void): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((perSecond * (performance.now() - started)) / 1000) + 1);
    for (; sent < due; sent++) send(sent);
    const nextAt = started + (sent * 1000) / perSecond;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, nextAt - performance.now())));
  }
}
