import WebSocket from "ws";
import { onWsFrame, type Connect } from "./types.js";

export const connectWs: Connect = (target, { onEvent, onLost }) =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(target.url, target.subprotocol ? [target.subprotocol] : [], { perMessageDeflate: false });
    let closing = false;
    const subscriber = {
      close: () => {
        closing = true;
        socket.terminate();
      },
    };
    socket.on("open", () => {
      if (!target.subprotocol) resolve(subscriber);
    });
    socket.on("message", (data) => {
      try {
        if (onWsFrame(data.toString(), onEvent) === "subscribed") resolve(subscriber);
      } catch (error) {
        socket.terminate();
        onLost(String(error));
      }
    });
    socket.on("error", reject);
    socket.on("close", (code) => {
      reject(new Error(`closed with ${code} before it was ready`));
      if (!closing) onLost(`closed with ${code}`);
    });
  });
