import * as decoding from 'lib0/decoding'
import {
  MUX_FEATURE,
  SOCKET_CHANNEL,
  encodeChannelClose,
  encodeChannelOpen,
  encodeFrame,
  muxPath,
  readChannelClose,
  readFrame,
} from '../mux'
import { CloseCodes, MessageTypes, readHelloNotice } from '../protocol'
import type { WebSocketConstructor } from './document-replica'

/** The part of a WebSocket (the browser's or `ws`) the transport and the provider use. */
interface SocketLike {
  binaryType: string
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
  send(data: Uint8Array | ArrayBuffer): void
  close(code?: number, reason?: string): void
}

const CONNECTING = 0
const OPEN = 1
const CLOSED = 3

/**
 * A server (or a proxy in front of it) that accepts the upgrade and then says nothing would
 * leave every document waiting: past this, the socket is dropped and the documents retry.
 */
const HELLO_TIMEOUT_MS = 15_000

/** How documents reach the server: not known yet, over one socket, or one socket each. */
export type TransportMode = 'unknown' | 'mux' | 'per-document'

const toBytes = (data: unknown): Uint8Array =>
  data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer)

/** y-websocket strips trailing slashes from the server URL before adding the room name. */
const trimSlashes = (url: string): string => url.replace(/\/+$/, '')

/**
 * One websocket for every document of a client (see PROTOCOL.md, "One socket for many
 * documents"). Providers are given {@link WebSocket}, a constructor whose instances look like
 * websockets to them but are channels on the shared socket: each y-websocket provider keeps
 * its own sync, awareness, reconnects and backoff exactly as with a socket of its own, and the
 * server sees one connection.
 *
 * The first channel opens the shared socket. The server's hello on it must name the `mux`
 * feature; a server that does not know the endpoint closes it with 4400 before any hello, and
 * from then on every channel (the waiting ones included) opens a plain per-document socket.
 */
export class MuxTransport {
  private modeValue: TransportMode = 'unknown'
  private shared: SharedSocket | null = null
  private readonly base: string
  /** The constructor to give providers: each instance is one document's channel. */
  readonly WebSocket: WebSocketConstructor

  constructor(
    url: string,
    private readonly workspace: string,
    private readonly RealWebSocket: WebSocketConstructor,
    /** How long a new shared socket may take to connect and say hello before it is dropped. */
    readonly helloTimeoutMs = HELLO_TIMEOUT_MS,
  ) {
    this.base = trimSlashes(url)
    this.WebSocket = channelSocketsOf(this)
  }

  /** Whether documents share one socket (`mux`), use their own, or it is not known yet. */
  mode(): TransportMode {
    return this.modeValue
  }

  /** @internal A channel wants to open. */
  attach(channel: ChannelSocket): void {
    if (this.modeValue === 'per-document') {
      channel.openDirect(this.RealWebSocket)
      return
    }
    if (this.shared === null || this.shared.ended) {
      const url = `${this.base}/${muxPath(this.workspace)}?cardfile=1`
      const ws = new this.RealWebSocket(url, channel.protocols) as SocketLike
      this.shared = new SharedSocket(this, ws)
    }
    this.shared.add(channel)
  }

  /** @internal The document's name and generation, from the URL the provider built. */
  parse(channelUrl: string): { doc: string; generation: string | null } {
    const rest = channelUrl.startsWith(`${this.base}/`)
      ? channelUrl.slice(this.base.length + 1)
      : channelUrl
    const query = rest.indexOf('?')
    const doc = query === -1 ? rest : rest.slice(0, query)
    const params = new URLSearchParams(query === -1 ? '' : rest.slice(query + 1))
    return { doc, generation: params.get('generation') }
  }

  /** @internal The server multiplexes: every socket from now on is tried as a mux first. */
  learnedMux(): void {
    this.modeValue = 'mux'
  }

  /** @internal The server cannot multiplex: documents use their own sockets from now on. */
  learnedPerDocument(waiting: Iterable<ChannelSocket>): void {
    this.modeValue = 'per-document'
    for (const channel of waiting) channel.openDirect(this.RealWebSocket)
  }
}

/** The shared socket and its channels. */
class SharedSocket {
  /** The hello named `mux`: channels are opened on this socket. */
  private ready = false
  /** Closed, or closing: a new channel needs a new socket. */
  ended = false
  private readonly waiting = new Set<ChannelSocket>()
  private readonly channels = new Map<number, ChannelSocket>()
  private nextChannel = 1
  /** The last token refresh sent, so that the one of every open document goes out once. */
  private lastRefresh = ''
  private helloTimer: ReturnType<typeof setTimeout> | null

  constructor(
    private readonly transport: MuxTransport,
    private readonly ws: SocketLike,
  ) {
    ws.binaryType = 'arraybuffer'
    ws.onmessage = (event) => this.onFrame(toBytes(event.data))
    ws.onclose = (event) => this.onClose(event.code, event.reason)
    // Errors are followed by a close, which is what the channels hear.
    ws.onerror = () => undefined
    this.helloTimer = setTimeout(() => this.onSilent(), transport.helloTimeoutMs)
    // In Node, a wait for a hello must not keep the process alive by itself.
    ;(this.helloTimer as { unref?: () => void }).unref?.()
  }

  /** No hello in time: every document hears a transient close and reconnects with backoff. */
  private onSilent(): void {
    this.helloTimer = null
    if (this.ready || this.ended) return
    this.ws.onmessage = null
    this.ws.onclose = null
    this.ws.close(1000)
    this.onClose(CloseCodes.TryAgainLater.code, 'no-hello')
  }

  private stopHelloTimer(): void {
    if (this.helloTimer !== null) clearTimeout(this.helloTimer)
    this.helloTimer = null
  }

  add(channel: ChannelSocket): void {
    channel.joined(this)
    if (this.ready) this.open(channel)
    else this.waiting.add(channel)
  }

  private open(channel: ChannelSocket): void {
    const id = this.nextChannel++
    this.channels.set(id, channel)
    const { doc, generation } = channel.target
    this.ws.send(encodeFrame(SOCKET_CHANNEL, encodeChannelOpen({ channel: id, doc, generation })))
    channel.attached(id)
  }

  /** Sends a message on a channel (a token refresh goes once, on the socket's own channel). */
  send(id: number, message: Uint8Array): void {
    if (this.ended || this.ws.readyState !== OPEN) return
    if (message[0] === MessageTypes.TokenRefresh) {
      // The token is the socket's: every open document sends the same refresh.
      const key = message.join(',')
      if (key === this.lastRefresh) return
      this.lastRefresh = key
      this.ws.send(encodeFrame(SOCKET_CHANNEL, message))
      return
    }
    this.ws.send(encodeFrame(id, message))
  }

  /** A channel the client closes: the server is told, and an idle socket closes. */
  release(channel: ChannelSocket, id: number | null): void {
    if (id !== null && this.channels.get(id) === channel) {
      this.channels.delete(id)
      if (!this.ended && this.ws.readyState === OPEN) {
        this.ws.send(
          encodeFrame(SOCKET_CHANNEL, encodeChannelClose({ channel: id, code: 1000, reason: '' })),
        )
      }
    }
    this.waiting.delete(channel)
    this.closeIfIdle()
  }

  private closeIfIdle(): void {
    if (this.ended || this.channels.size > 0 || this.waiting.size > 0) return
    this.stopHelloTimer()
    this.ended = true
    this.ws.close(1000)
  }

  private onFrame(bytes: Uint8Array): void {
    if (!this.ready) {
      this.onFirstFrame(bytes)
      return
    }
    const frame = readFrame(bytes)
    if (frame === null) return
    if (frame.channel !== SOCKET_CHANNEL) {
      this.channels.get(frame.channel)?.deliver(frame.message)
      return
    }
    const decoder = decoding.createDecoder(frame.message)
    let type: number
    try {
      type = decoding.readVarUint(decoder)
    } catch {
      // A message the client cannot read is dropped: it must not take the socket down.
      return
    }
    if (type !== MessageTypes.ChannelClose) return
    const notice = readChannelClose(decoder)
    if (notice === null) return
    const channel = this.channels.get(notice.channel)
    if (channel === undefined) return
    this.channels.delete(notice.channel)
    channel.closedBy(notice.code, notice.reason)
    this.closeIfIdle()
  }

  /**
   * The first frame must be a hello naming `mux`. Anything else (a hello without it, or a
   * server that took the endpoint for a document and started syncing it) means this server
   * does not multiplex: the socket is closed and documents use sockets of their own.
   */
  private onFirstFrame(bytes: Uint8Array): void {
    this.stopHelloTimer()
    const frame = readFrame(bytes)
    let multiplexes = false
    if (frame !== null && frame.channel === SOCKET_CHANNEL) {
      const decoder = decoding.createDecoder(frame.message)
      try {
        multiplexes =
          decoding.readVarUint(decoder) === MessageTypes.Hello &&
          readHelloNotice(decoder).features.includes(MUX_FEATURE)
      } catch {
        multiplexes = false
      }
    }
    const waiting = [...this.waiting]
    this.waiting.clear()
    if (!multiplexes) {
      this.ended = true
      this.ws.close(1000)
      this.transport.learnedPerDocument(waiting)
      return
    }
    this.ready = true
    this.transport.learnedMux()
    for (const channel of waiting) this.open(channel)
  }

  private onClose(code: number, reason: string): void {
    this.stopHelloTimer()
    this.ended = true
    const waiting = [...this.waiting]
    this.waiting.clear()
    const channels = [...this.channels.values()]
    this.channels.clear()
    if (!this.ready && code === CloseCodes.BadRequest.code) {
      // A server that predates multiplexing took the endpoint for a bad document name.
      this.transport.learnedPerDocument(waiting)
      return
    }
    // Every document hears the socket's close as its own: the same codes, the same retries.
    for (const channel of [...waiting, ...channels]) channel.closedBy(code, reason)
  }
}

/**
 * What a provider takes for its websocket: a channel on the shared socket, or, when the server
 * cannot multiplex, a plain socket it forwards to.
 */
class ChannelSocket implements SocketLike {
  readonly CONNECTING = CONNECTING
  readonly OPEN = OPEN
  readonly CLOSING = 2
  readonly CLOSED = CLOSED
  binaryType = 'arraybuffer'
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: { code: number; reason: string }) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  readonly target: { readonly doc: string; readonly generation: string | null }
  readonly protocols: string | string[] | undefined
  private state = CONNECTING
  private shared: SharedSocket | null = null
  private id: number | null = null
  private direct: SocketLike | null = null

  constructor(
    transport: MuxTransport,
    readonly url: string,
    protocols?: string | string[],
  ) {
    this.protocols = protocols
    this.target = transport.parse(url)
    transport.attach(this)
  }

  get readyState(): number {
    return this.direct?.readyState ?? this.state
  }

  /** Waits for (or rides) `shared`. */
  joined(shared: SharedSocket): void {
    this.shared = shared
  }

  /** Opened on the shared socket as channel `id`; the provider hears `open` once it listens. */
  attached(id: number): void {
    this.id = id
    // The provider sets its handlers after constructing the socket: open on the next tick.
    queueMicrotask(() => {
      if (this.state !== CONNECTING) return
      this.state = OPEN
      this.onopen?.({ type: 'open' })
    })
  }

  /** Opens a socket of its own, for a server that cannot multiplex. */
  openDirect(RealWebSocket: WebSocketConstructor): void {
    this.shared = null
    if (this.state === CLOSED) return
    const ws = new RealWebSocket(this.url, this.protocols) as SocketLike
    ws.binaryType = this.binaryType
    ws.onopen = (event) => this.onopen?.(event)
    ws.onmessage = (event) => this.onmessage?.(event)
    ws.onerror = (event) => this.onerror?.(event)
    ws.onclose = (event) => {
      this.state = CLOSED
      this.onclose?.(event)
    }
    this.direct = ws
  }

  /** A message the server sent on this channel. */
  deliver(message: Uint8Array): void {
    if (this.state !== OPEN) return
    this.onmessage?.({ data: message })
  }

  /** The server closed the channel, or the shared socket closed. */
  closedBy(code: number, reason: string): void {
    if (this.state === CLOSED) return
    this.state = CLOSED
    this.shared = null
    this.onclose?.({ code, reason })
  }

  send(data: Uint8Array | ArrayBuffer): void {
    if (this.direct !== null) {
      this.direct.send(data)
      return
    }
    if (this.state !== OPEN || this.shared === null || this.id === null) return
    this.shared.send(this.id, toBytes(data))
  }

  close(code?: number, reason?: string): void {
    if (this.direct !== null) {
      this.direct.close(code, reason)
      return
    }
    if (this.state === CLOSED) return
    this.state = CLOSED
    const shared = this.shared
    this.shared = null
    // A channel still waiting for the hello has no id yet: only its wait is forgotten.
    shared?.release(this, this.id)
    queueMicrotask(() => this.onclose?.({ code: code ?? 1000, reason: reason ?? '' }))
  }
}

/** A websocket constructor for providers whose every instance is a channel of `transport`. */
function channelSocketsOf(transport: MuxTransport): WebSocketConstructor {
  return class extends ChannelSocket {
    constructor(channelUrl: string, protocols?: string | string[]) {
      super(transport, channelUrl, protocols)
    }
  }
}
