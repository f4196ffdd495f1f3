import { describe, expect, it } from 'vitest'
import { MuxTransport } from '../src/client/mux-transport'
import { encodeTokenRefresh } from '../src/client/token-transport'
import {
  MessageTypes,
  encodeChannelClose,
  encodeFrame,
  encodeHello,
  readChannelOpen,
  readFrame,
} from '../src/index'
import * as decoding from 'lib0/decoding'

/** A websocket the test drives by hand: it records what is sent and fires what it is told. */
class FakeSocket {
  static made: FakeSocket[] = []
  binaryType = 'blob'
  readyState = 0
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  readonly sent: Uint8Array[] = []
  closedWith: number | null = null

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.made.push(this)
  }

  send(data: Uint8Array): void {
    this.sent.push(data)
  }

  close(code?: number): void {
    this.closedWith = code ?? 1005
    this.readyState = 3
  }

  open(): void {
    this.readyState = 1
    this.onopen?.({})
  }

  receive(bytes: Uint8Array): void {
    // Browsers hand an ArrayBuffer when binaryType is 'arraybuffer'.
    this.onmessage?.({ data: bytes.slice().buffer })
  }

  dropWith(code: number, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason })
  }
}

/** A provider's view of its socket: what it heard. */
function listen(socket: object) {
  const heard = { opened: 0, messages: [] as number[][], closes: [] as number[] }
  const s = socket as FakeSocket
  s.onopen = () => heard.opened++
  s.onmessage = (event) => heard.messages.push([...new Uint8Array(event.data as ArrayBuffer)])
  s.onclose = (event) => heard.closes.push(event.code)
  return heard
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve))

const setup = (helloTimeoutMs?: number) => {
  FakeSocket.made = []
  const transport = new MuxTransport('ws://host/', 'demo', FakeSocket, helloTimeoutMs)
  const open = (doc: string, query = 'cardfile=1') =>
    new transport.WebSocket(`ws://host/${doc}?${query}`, ['cardfile', 'cardfile.auth.x'])
  return { transport, open }
}

const shared = (): FakeSocket => {
  const socket = FakeSocket.made[0]
  if (socket === undefined) throw new Error('no shared socket')
  return socket
}

/** The channel-0 control messages the shared socket sent, decoded. */
const opensSent = (socket: FakeSocket) =>
  socket.sent
    .map((bytes) => readFrame(bytes))
    .filter((frame) => frame?.channel === 0 && frame.message[0] === MessageTypes.ChannelOpen)
    .map((frame) => {
      const decoder = decoding.createDecoder(frame!.message)
      decoding.readVarUint(decoder)
      return readChannelOpen(decoder)
    })

describe('the client transport', () => {
  it('opens every document on one socket once the hello names mux', async () => {
    const { transport, open } = setup()
    const schema = listen(open('demo/schema'))
    const contact = listen(open('demo/contact/c1', 'cardfile=1&generation=g1'))
    expect(FakeSocket.made.map((s) => s.url)).toEqual(['ws://host/demo/mux?cardfile=1'])
    shared().open()
    expect(opensSent(shared())).toEqual([])
    shared().receive(encodeFrame(0, encodeHello({ generation: 'g1', features: ['mux'] })))
    expect(transport.mode()).toBe('mux')
    expect(opensSent(shared())).toEqual([
      { channel: 1, doc: 'demo/schema', generation: null },
      { channel: 2, doc: 'demo/contact/c1', generation: 'g1' },
    ])
    await tick()
    expect([schema.opened, contact.opened]).toEqual([1, 1])
    // A message on channel 2 reaches the contact's provider only, without the channel id.
    shared().receive(encodeFrame(2, new Uint8Array([100, 1, 0])))
    expect(contact.messages).toEqual([[100, 1, 0]])
    expect(schema.messages).toEqual([])
    // The server closes channel 2 with the per-document code; the schema stays open.
    shared().receive(encodeFrame(0, encodeChannelClose({ channel: 2, code: 4403, reason: 'x' })))
    expect(contact.closes).toEqual([4403])
    expect(schema.closes).toEqual([])
    expect(shared().closedWith).toBeNull()
  })

  it('sends a token refresh once for the socket, however many documents send it', async () => {
    const { open } = setup()
    const a = open('demo/schema') as FakeSocket
    const b = open('demo/contact/c1') as FakeSocket
    shared().open()
    shared().receive(encodeFrame(0, encodeHello({ generation: 'g', features: ['mux'] })))
    await tick()
    const before = shared().sent.length
    a.send(encodeTokenRefresh('fresh'))
    b.send(encodeTokenRefresh('fresh'))
    const refreshes = shared()
      .sent.slice(before)
      .map((bytes) => readFrame(bytes))
    expect(refreshes).toHaveLength(1)
    expect(refreshes[0]?.channel).toBe(0)
    expect(refreshes[0]?.message[0]).toBe(MessageTypes.TokenRefresh)
  })

  it('falls back to a socket per document when the server closes the endpoint with 4400', () => {
    const { transport, open } = setup()
    const contact = listen(open('demo/contact/c1'))
    shared().open()
    shared().dropWith(4400, 'bad-document-name')
    expect(transport.mode()).toBe('per-document')
    const direct = FakeSocket.made[1]
    expect(direct?.url).toBe('ws://host/demo/contact/c1?cardfile=1')
    direct?.open()
    expect(contact.opened).toBe(1)
    expect(contact.closes).toEqual([])
    // Later documents go straight to their own sockets.
    open('demo/schema')
    expect(FakeSocket.made.map((s) => s.url).at(-1)).toBe('ws://host/demo/schema?cardfile=1')
  })

  it('falls back when the first frame is not a hello (a server syncing the path as a room)', () => {
    const { transport, open } = setup()
    open('demo/contact/c1')
    shared().open()
    // A stock y-websocket server starts with its sync step 1.
    shared().receive(new Uint8Array([0, 0, 1, 0]))
    expect(transport.mode()).toBe('per-document')
    expect(shared().closedWith).toBe(1000)
    expect(FakeSocket.made[1]?.url).toBe('ws://host/demo/contact/c1?cardfile=1')
  })

  it('hands a transient close of the socket to every document, and reconnects on demand', () => {
    const { transport, open } = setup()
    const schema = listen(open('demo/schema'))
    shared().open()
    shared().receive(encodeFrame(0, encodeHello({ generation: 'g', features: ['mux'] })))
    shared().dropWith(1013, 'slow-consumer')
    expect(schema.closes).toEqual([1013])
    expect(transport.mode()).toBe('mux')
    // The provider's retry opens a new socket.
    open('demo/schema')
    expect(FakeSocket.made).toHaveLength(2)
    expect(FakeSocket.made[1]?.url).toBe('ws://host/demo/mux?cardfile=1')
  })

  it('drops a socket that opens but says no hello, and its documents retry', async () => {
    const { transport, open } = setup(20)
    const schema = listen(open('demo/schema'))
    const contact = listen(open('demo/contact/c1'))
    shared().open()
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(shared().closedWith).toBe(1000)
    expect(schema.closes).toEqual([1013])
    expect(contact.closes).toEqual([1013])
    expect(transport.mode()).toBe('unknown')
    open('demo/schema')
    expect(FakeSocket.made).toHaveLength(2)
  })

  it('closes the socket once its last document closes', async () => {
    const { open } = setup()
    const a = open('demo/schema') as FakeSocket
    shared().open()
    shared().receive(encodeFrame(0, encodeHello({ generation: 'g', features: ['mux'] })))
    await tick()
    a.close()
    const last = readFrame(shared().sent.at(-1)!)
    expect(last?.channel).toBe(0)
    expect(last?.message[0]).toBe(MessageTypes.ChannelClose)
    expect(shared().closedWith).toBe(1000)
  })
})
