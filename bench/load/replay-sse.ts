/** Load module: catch-up over one Server-Sent Events response from offset 1, counting `id:` lines. */
import { request } from "undici";
import { STREAM } from "./order-event.js";
import { replay } from "./replay.js";

replay(async (url, tally, signal) => {
  const done = new AbortController();
  const res = await request(`${url}/v1/streams/${STREAM}/sse?from=1`, { signal: AbortSignal.any([signal, done.signal]) });
  if (res.statusCode !== 200) throw new Error(`GET .../sse answered ${res.statusCode}: ${await res.body.text()}`);
  res.body.setEncoding("utf8");
  let partial = "";
  try {
    for await (const chunk of res.body as AsyncIterable<string>) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith("id: ")) tally.see(Number(line.slice(4)));
        else if (line.startsWith("event: ")) throw new Error(`unexpected notice: ${line}`);
      }
      if (tally.done) break;
    }
  } finally {
    done.abort();
  }
});
