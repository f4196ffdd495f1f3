import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import {
  MAX_CHANNEL_ID,
  MessageTypes,
  encodeChannelClose,
  encodeChannelOpen,
  encodeFrame,
  muxPath,
  parseDocName,
  parseMuxPath,
  readChannelClose,
  readChannelOpen,
  readFrame,
} from '../src/index'

/** A decoder positioned after the message type, as the receiving end reads. */
const afterType = (message: Uint8Array, type: number): decoding.Decoder => {
  const decoder = decoding.createDecoder(message)
  expect(decoding.readVarUint(decoder)).toBe(type)
  return decoder
}

describe('mux frames', () => {
  it('reads back the channel and message of every frame it encodes', () => {
    const message = new Uint8Array([0, 2, 7, 9])
    for (const channel of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, MAX_CHANNEL_ID]) {
      const frame = readFrame(encodeFrame(channel, message))
      expect(frame?.channel).toBe(channel)
      expect([...(frame?.message ?? [])]).toEqual([...message])
    }
  })

  it('writes every byte of a frame into the array its allocator gives', () => {
    // A pooled allocator hands out memory that is not zeroed.
    const frame = encodeFrame(300, new Uint8Array([1, 2, 3]), (n) => new Uint8Array(n).fill(0xee))
    expect(readFrame(frame)).toEqual({ channel: 300, message: new Uint8Array([1, 2, 3]) })
    expect(frame).toHaveLength(5)
  })

  it('refuses frames without a whole channel id, with one too large, or without a message', () => {
    expect(readFrame(new Uint8Array([]))).toBeNull()
    expect(readFrame(new Uint8Array([0x80, 0x80]))).toBeNull()
    expect(readFrame(new Uint8Array([5]))).toBeNull()
    expect(readFrame(encodeFrame(MAX_CHANNEL_ID + 1, new Uint8Array([0])))).toBeNull()
  })

  it('reads back channel opens and closes, and refuses malformed ones', () => {
    const open = encodeChannelOpen({ channel: 3, doc: 'demo/contact/c1', generation: 'g1' })
    expect(readChannelOpen(afterType(open, MessageTypes.ChannelOpen))).toEqual({
      channel: 3,
      doc: 'demo/contact/c1',
      generation: 'g1',
    })
    const bare = encodeChannelOpen({ channel: 4, doc: 'demo/schema', generation: null })
    expect(readChannelOpen(afterType(bare, MessageTypes.ChannelOpen))?.generation).toBeNull()
    const close = encodeChannelClose({ channel: 3, code: 4403, reason: 'forbidden' })
    expect(readChannelClose(afterType(close, MessageTypes.ChannelClose))).toEqual({
      channel: 3,
      code: 4403,
      reason: 'forbidden',
    })
    // Channel 0 is the socket's own; a payload cut short or followed by more bytes is refused.
    const zero = encodeChannelOpen({ channel: 0, doc: 'demo/schema', generation: null })
    expect(readChannelOpen(afterType(zero, MessageTypes.ChannelOpen))).toBeNull()
    expect(readChannelOpen(afterType(open.subarray(0, 6), MessageTypes.ChannelOpen))).toBeNull()
    const longer = new Uint8Array([...open, 1])
    expect(readChannelOpen(afterType(longer, MessageTypes.ChannelOpen))).toBeNull()
    expect(readChannelClose(afterType(close.subarray(0, 3), MessageTypes.ChannelClose))).toBeNull()
  })

  it('names an endpoint that is never a document name', () => {
    expect(muxPath('demo')).toBe('demo/mux')
    expect(parseMuxPath(muxPath('demo'))).toBe('demo')
    // An older server reads the path as a document name and refuses it.
    expect(parseDocName(muxPath('demo'))).toBeNull()
    expect(parseMuxPath('demo/schema')).toBeNull()
    expect(parseMuxPath('a/b/mux')).toBeNull()
    expect(parseMuxPath('bad name/mux')).toBeNull()
  })
})
