import * as ws from 'ws'
import { describe, expect, it } from 'vitest'
import { encodeFrame } from '@cardfile/core'
import { SharedMessage, binaryFrame, frameOf, framedAllocation } from '../src/sync/wire-frame'

/** ws' frame parser: exported by ws, missing from its type declarations. */
interface FrameReader {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void
  write(chunk: Buffer): void
}
const { Receiver } = ws as unknown as {
  Receiver: new (options: { isServer: boolean; binaryType: string }) => FrameReader
}

/** What ws, reading as a client would, makes of `bytes`: the binary messages in them. */
function readAsClient(bytes: Uint8Array): Buffer[] {
  const messages: Buffer[] = []
  const receiver = new Receiver({ isServer: false, binaryType: 'nodebuffer' })
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(true)
    messages.push(data)
  })
  receiver.write(Buffer.from(bytes))
  return messages
}

const payload = (length: number): Uint8Array =>
  Uint8Array.from({ length }, (_, at) => (at * 31 + 7) & 0xff)

describe('websocket frames built by the server', () => {
  it('are read back by ws as the same binary message, at every header size', () => {
    // 125 and 126 straddle the one-byte length; 65535 and 65536 the two-byte one.
    for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
      const bytes = payload(length)
      const [message, ...rest] = readAsClient(binaryFrame(bytes))
      expect(rest).toEqual([])
      expect(new Uint8Array(message ?? [])).toEqual(bytes)
    }
  })

  it('frame a multiplexed channel frame in the same buffer it was encoded into', () => {
    for (const length of [3, 200, 70_000]) {
      const bytes = payload(length)
      const channelFrame = encodeFrame(9, bytes, framedAllocation)
      const [message] = readAsClient(frameOf(channelFrame))
      expect(new Uint8Array(message ?? [])).toEqual(encodeFrame(9, bytes))
    }
  })

  it('are built once for every receiver of a shared message', () => {
    const shared = new SharedMessage(payload(40))
    expect(shared.wireFrame()).toBe(shared.wireFrame())
    expect(readAsClient(Buffer.concat([shared.wireFrame(), shared.wireFrame()]))).toHaveLength(2)
  })
})
