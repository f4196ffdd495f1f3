import type { WebSocket } from 'ws'
import {
  CloseCodes,
  MessageTypes,
  SOCKET_CHANNEL,
  encodeChannelClose,
  encodeFrame,
  readChannelClose,
  readChannelOpen,
  readFrame,
} from '@cardfile/core'
import type { CloseCode } from '@cardfile/core'
import * as decoding from 'lib0/decoding'
import type { ServerMetrics } from '../metrics'
import { Connection } from './connection'
import type { ServerLimits } from './limits'
import { frameOf, framedAllocation } from './wire-frame'
import type { SharedMessage } from './wire-frame'

/** Frame bytes from Node's pool (every byte is written, so unzeroed memory never leaks). */
const allocateFrame = (length: number): Uint8Array => Buffer.allocUnsafe(length)

/** How a multiplexed socket closes on a frame it cannot read or a protocol violation. */
export const BAD_MUX_FRAME: CloseCode = {
  code: CloseCodes.BadRequest.code,
  reason: 'bad-mux-frame',
}

/** What the server does with a multiplexed socket's channels. */
export interface MuxHandlers {
  /** A channel was opened: admit it as a per-document connection would be admitted. */
  opened(channel: MuxChannel, generation: string | null): void
  /** A message arrived on an open channel. */
  message(channel: MuxChannel, message: Uint8Array): void
  /** A channel closed (either end, or with its socket): detach it from its document. */
  closed(channel: MuxChannel): void
  /** A message for the socket itself (channel 0) other than opening or closing a channel. */
  socketMessage(conn: MuxConnection, message: Uint8Array): void
}

/**
 * One websocket carrying many documents, each on a channel (see PROTOCOL.md, "One socket for
 * many documents"). The socket is one {@link Connection}: one token, one expiry, one message
 * rate, one outbound buffer (a slow consumer is closed whole), one heartbeat. Each document it
 * opens is a {@link MuxChannel}, which live documents, list subscriptions and the cluster see
 * as the per-document Connection they already know.
 */
export class MuxConnection extends Connection {
  /** The token the socket was admitted with, or the latest accepted refresh of it. */
  token = ''
  /** Authenticated: frames are handled (before, they are queued). */
  ready = false
  private readonly channels = new Map<number, MuxChannel>()
  /** Channel ids only grow, so an id is never reused on one socket. */
  private lastChannel = SOCKET_CHANNEL

  constructor(
    ws: WebSocket,
    /** The workspace's schema document: what the socket's token is checked against. */
    docName: string,
    limits: ServerLimits,
    metrics: ServerMetrics,
    private readonly handlers: MuxHandlers,
  ) {
    super(ws, docName, true, limits, metrics)
  }

  /** Open channels (for metrics and tests). */
  channelCount(): number {
    return this.channels.size
  }

  /**
   * Every open document keeps the message rate it would have on a socket of its own: the
   * socket's budget is the per-connection rate times its open channels (at least one).
   */
  protected override messageRate(): number {
    return this.limits.messagesPerSecond * Math.max(1, this.channels.size)
  }

  /** The socket's own messages go on channel 0. */
  override sendUncounted(message: Uint8Array): boolean {
    return this.writeFrame(SOCKET_CHANNEL, message)
  }

  /**
   * Writes `message` on `channel`; false when the socket is closed (or was, for being slow).
   * A relay frames the same update once per channel, so frames come from Node's buffer pool.
   */
  writeFrame(channel: number, message: Uint8Array): boolean {
    if (!this.open) return false
    // With the TCP socket at hand, the channel frame is encoded inside its websocket frame.
    if (this.hasTransport()) {
      return this.writeWire(frameOf(encodeFrame(channel, message, framedAllocation)))
    }
    return this.write(encodeFrame(channel, message, allocateFrame))
  }

  /** The socket's own messages go on channel 0, framed per socket like any channel's. */
  override sendShared(message: SharedMessage): boolean {
    return this.writeFrame(SOCKET_CHANNEL, message.bytes)
  }

  /**
   * Handles one frame of an authenticated socket. A frame that cannot be read, an unknown
   * socket message, or a channel id reused or out of order closes the socket with 4400
   * `bad-mux-frame`: the peer does not speak the protocol, and nothing it sends can be trusted
   * to land on the channel it meant. A frame for a channel that is no longer open is dropped:
   * the server may have closed it while the frame was on its way.
   */
  receive(bytes: Uint8Array): void {
    const frame = readFrame(bytes)
    if (frame === null) {
      this.close(BAD_MUX_FRAME)
      return
    }
    if (frame.channel !== SOCKET_CHANNEL) {
      const channel = this.channels.get(frame.channel)
      if (channel !== undefined) this.handlers.message(channel, frame.message)
      else if (frame.channel > this.lastChannel) this.close(BAD_MUX_FRAME)
      return
    }
    const message = frame.message
    const decoder = decoding.createDecoder(message)
    let type: number
    try {
      type = decoding.readVarUint(decoder)
    } catch {
      this.close(BAD_MUX_FRAME)
      return
    }
    switch (type) {
      case MessageTypes.ChannelOpen:
        this.openChannel(readChannelOpen(decoder))
        return
      case MessageTypes.ChannelClose: {
        const notice = readChannelClose(decoder)
        if (notice === null) {
          this.close(BAD_MUX_FRAME)
          return
        }
        this.channels.get(notice.channel)?.closedByPeer()
        return
      }
      case MessageTypes.TokenRefresh:
        this.handlers.socketMessage(this, message)
        return
      default:
        this.close(BAD_MUX_FRAME)
    }
  }

  private openChannel(request: ReturnType<typeof readChannelOpen>): void {
    if (request === null || request.channel <= this.lastChannel) {
      this.close(BAD_MUX_FRAME)
      return
    }
    this.lastChannel = request.channel
    const channel = new MuxChannel(this, request.channel, request.doc, this.limits, this.metrics)
    this.channels.set(request.channel, channel)
    this.metrics.channels.inc()
    if (this.channels.size > this.limits.maxChannelsPerSocket) {
      channel.close({ code: CloseCodes.RateLimited.code, reason: 'too-many-channels' })
      return
    }
    this.handlers.opened(channel, request.generation)
  }

  /** Called by a channel once it is closed: it leaves the socket and its document. */
  forget(channel: MuxChannel): void {
    if (this.channels.get(channel.channel) !== channel) return
    this.channels.delete(channel.channel)
    this.metrics.channels.dec()
    this.handlers.closed(channel)
  }

  /** Closing the socket closes every channel on it; their documents let go of them at once. */
  override markClosed(): void {
    super.markClosed()
    const channels = [...this.channels.values()]
    for (const channel of channels) channel.closedByPeer()
  }
}

/**
 * One document on a multiplexed socket. To live documents it is the per-document
 * {@link Connection} they know: it sends on its channel, and closing it closes the channel
 * with the same code and reason a per-document socket would close with, leaving the socket
 * and its other channels open. Rate limits, backpressure and the token's expiry are the
 * socket's; presence (awareness ids and their rate) is per channel, as it is per document.
 */
export class MuxChannel extends Connection {
  constructor(
    readonly socket: MuxConnection,
    readonly channel: number,
    docName: string,
    limits: ServerLimits,
    metrics: ServerMetrics,
  ) {
    super(socket.ws, docName, true, limits, metrics)
    this.id = `${socket.id}#${channel}`
  }

  override get open(): boolean {
    return !this.closed && this.socket.open
  }

  override sendUncounted(message: Uint8Array): boolean {
    return !this.closed && this.socket.writeFrame(this.channel, message)
  }

  /** A broadcast's message is framed for this channel: the channel id differs per socket. */
  override sendShared(message: SharedMessage): boolean {
    return this.sendUncounted(message.bytes)
  }

  /** The socket's token expiry closes the socket, and with it every channel. */
  override expireAt(): void {
    // Nothing per channel: see the socket's expiry.
  }

  /** Closes the channel with `code`: the client hears it as its document's socket closing. */
  override close(code: CloseCode): void {
    if (this.closed) return
    this.markClosed()
    this.metrics.closes.inc(1, { code: String(code.code) })
    this.socket.writeFrame(
      SOCKET_CHANNEL,
      encodeChannelClose({ channel: this.channel, code: code.code, reason: code.reason }),
    )
    this.socket.forget(this)
  }

  /** The client closed the channel, or the socket closed under it: nothing is sent. */
  closedByPeer(): void {
    if (!this.closed) this.markClosed()
    this.socket.forget(this)
  }
}
