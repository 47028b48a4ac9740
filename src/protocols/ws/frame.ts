/**
 * A final, unmasked frame (RFC 6455 section 5.2) as a server sends it: built once per event and
 * written as is to every subscriber with the same sub, rather than framed again per socket.
 */
export function serverFrame(payload: string | Uint8Array): Buffer {
  const text = typeof payload === "string";
  const bytes = text ? Buffer.from(payload, "utf8") : payload;
  const length = bytes.byteLength;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | (text ? OPCODE_TEXT : OPCODE_BINARY);
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.set(bytes, headerLength);
  return frame;
}

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
