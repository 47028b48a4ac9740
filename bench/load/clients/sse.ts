import { get } from "node:http";
import { onEnvelope, type Connect } from "./types.js";

export const connectSse: Connect = (target, { onEvent, onLost }) =>
  new Promise((resolve, reject) => {
    let closing = false;
    const request = get(target.url, { agent: false }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`SSE answered ${response.statusCode}`));
        response.resume();
        return;
      }
      resolve({
        close: () => {
          closing = true;
          request.destroy();
        },
      });
      response.setEncoding("utf8");
      let partial = "";
      response.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (!line.startsWith("data: ")) continue;
          onEnvelope(line, onEvent);
        }
      });
      response.on("close", () => {
        if (!closing) onLost("the SSE response ended");
      });
    });
    request.on("error", (error) => {
      reject(error);
      if (!closing) onLost(error.message);
    });
  });
