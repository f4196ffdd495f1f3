/**
 * Websocket frames built here and written straight to a connection's TCP socket. ws would build
 * a header per send and write header and payload as two buffers (a writev per socket); a frame
 * built once is one buffer, and a broadcast writes the same frame to every socket. Frames from
 * a server are never masked (RFC 6455 section 5.1), so the bytes are the same for everyone.
 */

/** FIN set, opcode 2 (binary): every message here is one whole binary frame. */
const FIN_BINARY = 0x82

/** Bytes of the header of a server frame carrying `length` bytes. */
export function frameHeaderLength(length: number): number {
  if (length < 126) return 2
  return length <= 0xffff ? 4 : 10
}

/** Writes the header of a binary frame carrying `length` bytes at the start of `frame`. */
export function writeFrameHeader(frame: Uint8Array, length: number): void {
  frame[0] = FIN_BINARY
  if (length < 126) {
    frame[1] = length
  } else if (length <= 0xffff) {
    frame[1] = 126
    frame[2] = length >>> 8
    frame[3] = length & 0xff
  } else {
    frame[1] = 127
    // Payloads are far below 2^53 bytes: the high word is what the division leaves.
    const high = Math.floor(length / 0x1_0000_0000)
    const low = length >>> 0
    frame[2] = 0
    frame[3] = 0
    frame[4] = (high >>> 8) & 0xff
    frame[5] = high & 0xff
    frame[6] = low >>> 24
    frame[7] = (low >>> 16) & 0xff
    frame[8] = (low >>> 8) & 0xff
    frame[9] = low & 0xff
  }
}

/**
 * `payload` as one unmasked binary websocket frame, in bytes from Node's pool (every byte is
 * written, so unzeroed memory never leaks).
 *
 * @example
 * socket.write(binaryFrame(encodeSyncUpdate(update)))
 */
export function binaryFrame(payload: Uint8Array): Buffer {
  const header = frameHeaderLength(payload.byteLength)
  const frame = Buffer.allocUnsafe(header + payload.byteLength)
  writeFrameHeader(frame, payload.byteLength)
  frame.set(payload, header)
  return frame
}

/**
 * An allocator for a message that is framed as it is encoded: it returns the payload's bytes,
 * a view into a buffer that holds the frame header before them, and `frameOf` gives the whole
 * frame back (one allocation and one copy for message and frame).
 */
export function framedAllocation(length: number): Uint8Array {
  const header = frameHeaderLength(length)
  const frame = Buffer.allocUnsafe(header + length)
  writeFrameHeader(frame, length)
  return frame.subarray(header)
}

/** The whole frame around a payload from {@link framedAllocation}. */
export function frameOf(payload: Uint8Array): Buffer {
  const header = frameHeaderLength(payload.byteLength)
  return Buffer.from(payload.buffer, payload.byteOffset - header, payload.byteLength + header)
}

/**
 * One message sent to many connections: its bytes, and its websocket frame, built the first
 * time a connection asks for it and shared by every socket after that.
 */
export class SharedMessage {
  private frame: Buffer | null = null

  constructor(readonly bytes: Uint8Array) {}

  /** The message as one binary websocket frame (built once). */
  wireFrame(): Buffer {
    return (this.frame ??= binaryFrame(this.bytes))
  }
}
