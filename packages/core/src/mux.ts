import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { MessageTypes, ServerFeatures } from './protocol'

/*
 * Multiplexing, for both ends: one websocket carries many documents, each on its own channel.
 * Every frame is a channel id (varUint) followed by a message exactly as a per-document socket
 * would carry it; channel 0 carries the socket's own messages (hello, token refresh, channel
 * open and close). See PROTOCOL.md, "One socket for many documents".
 */

/** The feature a server's hello names when it serves multiplexed sockets. */
export const MUX_FEATURE = ServerFeatures.Mux

/** The channel of the socket's own messages; documents are opened on channels from 1. */
export const SOCKET_CHANNEL = 0

/** The largest channel id a frame may carry (ids are never reused on one socket). */
export const MAX_CHANNEL_ID = 2 ** 31 - 1

/** The last path segment of a workspace's multiplexed endpoint (`/<workspace>/mux`). */
const MUX_SEGMENT = 'mux'

/**
 * The path (without the leading slash) of a workspace's multiplexed endpoint. It is never a
 * document name, so a server without multiplexing refuses it as a bad document name (4400).
 *
 * @example
 * new WebSocket(`${url}/${muxPath('demo')}?cardfile=1`, tokenSubprotocols(token))
 */
export function muxPath(workspace: string): string {
  return `${workspace}/${MUX_SEGMENT}`
}

/**
 * The workspace a multiplexed endpoint's path (without the leading slash) names, or null when
 * the path is not one.
 *
 * @example
 * parseMuxPath('demo/mux') // 'demo'
 */
export function parseMuxPath(path: string): string | null {
  const parts = path.split('/')
  if (parts.length !== 2 || parts[1] !== MUX_SEGMENT || parts[0] === undefined) return null
  return /^[A-Za-z0-9_-]{1,64}$/.test(parts[0]) ? parts[0] : null
}

/** Bytes of `value` as a varUint. */
function varUintLength(value: number): number {
  let length = 1
  while (value > 0x7f) {
    value = Math.floor(value / 128)
    length++
  }
  return length
}

/**
 * A frame: `message` on `channel`. `allocate` makes the frame's bytes (they are all written);
 * a server relaying to thousands of channels passes a pooled allocator such as Node's
 * `Buffer.allocUnsafe`, several times faster than a fresh zeroed array per frame.
 *
 * @example
 * ws.send(encodeFrame(3, encodeSyncUpdate(update)))
 */
export function encodeFrame(
  channel: number,
  message: Uint8Array,
  allocate: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): Uint8Array {
  const header = varUintLength(channel)
  const frame = allocate(header + message.byteLength)
  let value = channel
  let at = 0
  while (value > 0x7f) {
    frame[at++] = 0x80 | (value & 0x7f)
    value = Math.floor(value / 128)
  }
  frame[at] = value
  frame.set(message, header)
  return frame
}

/** A frame read back: its channel and the message it carries (a view, not a copy). */
export interface Frame {
  readonly channel: number
  readonly message: Uint8Array
}

/**
 * Reads a frame, or null when it is malformed: no channel id, one over {@link MAX_CHANNEL_ID},
 * or no message after it.
 *
 * @example
 * const frame = readFrame(bytes)
 * if (frame === null) ws.close(4400, 'bad-mux-frame')
 */
export function readFrame(bytes: Uint8Array): Frame | null {
  let channel = 0
  let scale = 1
  let at = 0
  for (;;) {
    const byte = bytes[at++]
    if (byte === undefined) return null
    channel += (byte & 0x7f) * scale
    if (channel > MAX_CHANNEL_ID) return null
    if (byte < 0x80) break
    scale *= 128
  }
  if (at >= bytes.byteLength) return null
  return { channel, message: bytes.subarray(at) }
}

/** A request to open a document on a channel (type 109, client to server, channel 0). */
export interface ChannelOpenRequest {
  /** Chosen by the client: from 1, never reused on the same socket. */
  readonly channel: number
  /** The document's name, as the path of a per-document socket names it. */
  readonly doc: string
  /** The store generation the client's copy came from (the `generation` parameter), or null. */
  readonly generation: string | null
}

/** A channel's close (type 110, both ways, channel 0), with a close code as a socket has. */
export interface ChannelCloseNotice {
  readonly channel: number
  readonly code: number
  readonly reason: string
}

/** The message that opens a channel (send it on {@link SOCKET_CHANNEL}). */
export function encodeChannelOpen(request: ChannelOpenRequest): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.ChannelOpen)
  encoding.writeVarUint(encoder, request.channel)
  encoding.writeVarString(encoder, request.doc)
  encoding.writeVarString(encoder, request.generation ?? '')
  return encoding.toUint8Array(encoder)
}

/** The message that closes a channel (send it on {@link SOCKET_CHANNEL}). */
export function encodeChannelClose(notice: ChannelCloseNotice): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageTypes.ChannelClose)
  encoding.writeVarUint(encoder, notice.channel)
  encoding.writeVarUint(encoder, notice.code)
  encoding.writeVarString(encoder, notice.reason)
  return encoding.toUint8Array(encoder)
}

const isChannelId = (value: number): boolean => value > SOCKET_CHANNEL && value <= MAX_CHANNEL_ID

/** Reads the payload of a 109 channel open, or null when it is malformed. */
export function readChannelOpen(decoder: decoding.Decoder): ChannelOpenRequest | null {
  try {
    const channel = decoding.readVarUint(decoder)
    const doc = decoding.readVarString(decoder)
    const generation = decoding.readVarString(decoder)
    if (!isChannelId(channel) || decoding.hasContent(decoder)) return null
    return { channel, doc, generation: generation === '' ? null : generation }
  } catch {
    return null
  }
}

/** Reads the payload of a 110 channel close, or null when it is malformed. */
export function readChannelClose(decoder: decoding.Decoder): ChannelCloseNotice | null {
  try {
    const channel = decoding.readVarUint(decoder)
    const code = decoding.readVarUint(decoder)
    const reason = decoding.readVarString(decoder)
    if (!isChannelId(channel) || decoding.hasContent(decoder)) return null
    return { channel, code, reason }
  } catch {
    return null
  }
}
