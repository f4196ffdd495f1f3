import {
  MUX_FEATURE,
  MessageTypes,
  SOCKET_CHANNEL,
  encodeChannelClose,
  encodeChannelOpen,
  encodeFrame,
  muxPath,
  readFrame,
  readHelloNotice,
} from '@cardfile/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import WebSocket from 'ws'
import * as Y from 'yjs'
import type { LatencyClient } from './latency'
import { within } from './stats'

/** Transaction origin of changes that arrived over the socket: they are never sent back. */
const REMOTE = Symbol('remote')

interface Channel extends LatencyClient {
  readonly synced: () => void
}

/**
 * Several documents over one Cardfile socket (`/<workspace>/mux`), as the Cardfile client opens
 * an agent's documents: the minimal counterpart of `BenchClient` (sync only, no awareness, no
 * reconnect), so the client side costs the same as the per-document one.
 *
 * @example
 * const socket = await BenchMuxSocket.connect(url, 'bench', token, 20_000)
 * const contact = await socket.open('bench/contact/c1', 20_000)
 */
export class BenchMuxSocket {
  private readonly channels = new Map<number, Channel>()
  private nextChannel = 1

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.receive(new Uint8Array(data)))
  }

  /** Opens the socket and resolves once the server's hello named the `mux` feature. */
  static async connect(
    url: string,
    workspace: string,
    token: string,
    timeoutMs: number,
  ): Promise<BenchMuxSocket> {
    const socket = new WebSocket(`${url}/${muxPath(workspace)}?token=${token}&cardfile=1`, {
      perMessageDeflate: false,
    })
    socket.binaryType = 'nodebuffer'
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('message', (data: Buffer) => {
        const frame = readFrame(new Uint8Array(data))
        const decoder = decoding.createDecoder(frame?.message ?? new Uint8Array([0]))
        const isHello =
          frame?.channel === SOCKET_CHANNEL && decoding.readVarUint(decoder) === MessageTypes.Hello
        if (isHello && readHelloNotice(decoder).features.includes(MUX_FEATURE)) resolve()
        else reject(new Error('the server did not announce mux'))
      })
      socket.once('error', reject)
      socket.once('close', (code) => reject(new Error(`mux socket closed with ${code}`)))
    })
    await within(ready, timeoutMs, 'the mux socket did not say hello')
    return new BenchMuxSocket(socket)
  }

  /** Opens `name` on a new channel; resolves once synced. */
  async open(name: string, timeoutMs: number): Promise<LatencyClient> {
    const id = this.nextChannel++
    const doc = new Y.Doc()
    let synced: () => void = () => undefined
    const ready = new Promise<void>((resolve) => {
      synced = resolve
    })
    const channel: Channel = { doc, onRemoteChange: null, synced }
    this.channels.set(id, channel)
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || this.socket.readyState !== WebSocket.OPEN) return
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, MessageTypes.Sync)
      syncProtocol.writeUpdate(encoder, update)
      this.socket.send(encodeFrame(id, encoding.toUint8Array(encoder)))
    })
    this.socket.send(
      encodeFrame(SOCKET_CHANNEL, encodeChannelOpen({ channel: id, doc: name, generation: null })),
    )
    const step1 = encoding.createEncoder()
    encoding.writeVarUint(step1, MessageTypes.Sync)
    syncProtocol.writeSyncStep1(step1, doc)
    this.socket.send(encodeFrame(id, encoding.toUint8Array(step1)))
    await within(ready, timeoutMs, `mux channel of ${name} did not sync`)
    return channel
  }

  private receive(bytes: Uint8Array): void {
    const frame = readFrame(bytes)
    if (frame === null || frame.channel === SOCKET_CHANNEL) return
    const channel = this.channels.get(frame.channel)
    if (channel === undefined) return
    const decoder = decoding.createDecoder(frame.message)
    // Acks, refusals and awareness are not what the benchmark observes.
    if (decoding.readVarUint(decoder) !== MessageTypes.Sync) return
    const reply = encoding.createEncoder()
    encoding.writeVarUint(reply, MessageTypes.Sync)
    const syncType = syncProtocol.readSyncMessage(decoder, reply, channel.doc, REMOTE)
    if (encoding.length(reply) > 1) {
      this.socket.send(encodeFrame(frame.channel, encoding.toUint8Array(reply)))
    }
    if (syncType === syncProtocol.messageYjsSyncStep2) channel.synced()
    if (syncType !== syncProtocol.messageYjsSyncStep1) channel.onRemoteChange?.()
  }

  /** Closes every channel and the socket; resolves when it is closed (or after `timeoutMs`). */
  close(timeoutMs = 2000): Promise<void> {
    for (const [id, channel] of this.channels) {
      channel.onRemoteChange = null
      channel.doc.destroy()
      if (this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(
          encodeFrame(SOCKET_CHANNEL, encodeChannelClose({ channel: id, code: 1000, reason: '' })),
        )
      }
    }
    this.channels.clear()
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate()
        resolve()
      }, timeoutMs)
      this.socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      this.socket.close()
    })
  }
}
