/** A server's unmasked, final text frame (RFC 6455 5.2), built once and written to every client. */
export function textFrame(payload: Uint8Array): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x81, length]) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (length >= 126 && length < 65536) {
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else if (length >= 65536) {
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}
