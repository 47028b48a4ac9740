/** Load module: catch-up by chained long polls from offset 1, each from the last answer's `next`. */
import { Pool } from "undici";
import type { PollBatch } from "@streamgate/protocol/codec";
import { MAX_POLL_EVENTS } from "@streamgate/protocol/read-spec";
import { STREAM } from "./order-event.js";
import { replay } from "./replay.js";

replay(async (url, tally, signal) => {
  const pool = new Pool(url, { connections: 1 });
  try {
    for (let from = 1; !tally.done; ) {
      const res = await pool.request({ method: "GET", path: `/v1/streams/${STREAM}/poll?from=${from}&max=${MAX_POLL_EVENTS}&wait=5`, signal });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET .../poll answered ${res.statusCode}: ${text.slice(0, 300)}`);
      const answer = JSON.parse(text) as PollBatch<{ offset: number }>;
      if (answer.gap) throw new Error(`unexpected gap: ${JSON.stringify(answer.gap)}`);
      for (const event of answer.events) tally.see(event.offset);
      from = answer.next;
    }
  } finally {
    await pool.close();
  }
});
