import type { WebSocket } from 'ws'
import type { AuthenticatedActor } from '../auth/authenticate'
import type { ServerMetrics } from '../metrics'
import type { CloseCode } from './close-codes'
import { CloseCodes } from './close-codes'
import type { ServerLimits } from './limits'
import { TokenBucket } from './limits'

/** How long a closing socket may take to finish the close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 3000

/**
 * One client connection: a websocket on one document, its actor once authenticated, its rate
 * limits and the awareness client ids it controls. Sending goes through {@link send}, which
 * closes consumers that cannot keep up instead of buffering for them without bound.
 */
export class Connection {
  actor: AuthenticatedActor | null = null
  /** Awareness client ids this connection has set states for (removed when it drops). */
  readonly awarenessIds = new Set<number>()
  /** Messages received before the connection was attached to its document. */
  readonly pending: Uint8Array[] = []
  readonly messages: TokenBucket
  readonly awareness: TokenBucket
  /** The latest awareness update held back by the awareness rate limit. */
  deferredAwareness: Uint8Array | null = null
  deferredAwarenessTimer: ReturnType<typeof setTimeout> | null = null
  closed = false
  private resumeTimer: ReturnType<typeof setTimeout> | null = null
  private expiryTimer: ReturnType<typeof setTimeout> | null = null

  constructor(
    readonly ws: WebSocket,
    readonly docName: string,
    /** Opted in to Cardfile's message types (`cardfile=1`). */
    readonly extended: boolean,
    readonly limits: ServerLimits,
    private readonly metrics: ServerMetrics,
  ) {
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond * 2)
    this.awareness = new TokenBucket(limits.awarenessPerSecond, limits.awarenessPerSecond * 2)
  }

  /** True while messages can still be sent. */
  get open(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN
  }

  /**
   * Sends `message` unless the connection is closed. A connection whose outbound buffer is
   * over the limit is a consumer too slow to keep up: it is closed (transient, it may come back
   * and resync) rather than buffered for without bound.
   */
  send(message: Uint8Array): void {
    if (!this.open) return
    if (this.ws.bufferedAmount + message.byteLength > this.limits.maxBufferedBytes) {
      this.close({ code: CloseCodes.TryAgainLater.code, reason: 'slow-consumer' })
      return
    }
    this.metrics.bytesSent.inc(message.byteLength)
    this.ws.send(message, { binary: true })
  }

  /** Sends only to connections that opted in to Cardfile's message types. */
  sendExtended(message: Uint8Array): void {
    if (this.extended) this.send(message)
  }

  /**
   * Applies the message-rate limit for one received message: false when the connection was
   * closed for flooding. Over the rate the socket stops being read until the bucket refills
   * (TCP pushes back on the sender); a sender that keeps going far past that is closed.
   */
  admit(): boolean {
    const balance = this.messages.take()
    if (balance >= 0) return true
    if (balance < -this.limits.messagesPerSecond * 3) {
      this.close(CloseCodes.RateLimited)
      return false
    }
    if (this.resumeTimer === null && this.open) {
      this.ws.pause()
      this.resumeTimer = setTimeout(() => {
        this.resumeTimer = null
        if (this.open) this.ws.resume()
      }, this.messages.msUntilAvailable())
    }
    return true
  }

  /** Closes the connection when its token expires. */
  expireAt(ms: number): void {
    const delay = ms - Date.now()
    // setTimeout overflows past ~24.8 days; such tokens are re-checked on reconnect anyway.
    if (delay > 2 ** 31 - 1) return
    this.expiryTimer = setTimeout(
      () => this.close({ code: CloseCodes.Unauthorized.code, reason: 'token-expired' }),
      Math.max(0, delay),
    )
  }

  /** Closes with `code`; destroys the socket if the peer does not finish the handshake. */
  close(code: CloseCode): void {
    if (this.closed) return
    this.markClosed()
    this.metrics.closes.inc(1, { code: String(code.code) })
    const ws = this.ws
    if (ws.readyState === ws.CLOSED) return
    try {
      ws.close(code.code, code.reason)
    } catch {
      ws.terminate()
      return
    }
    const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS)
    timer.unref()
    ws.once('close', () => clearTimeout(timer))
  }

  /** Marks the connection closed and stops its timers (also called when the peer closed). */
  markClosed(): void {
    this.closed = true
    if (this.resumeTimer !== null) clearTimeout(this.resumeTimer)
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer)
    if (this.deferredAwarenessTimer !== null) clearTimeout(this.deferredAwarenessTimer)
    this.resumeTimer = null
    this.expiryTimer = null
    this.deferredAwarenessTimer = null
    this.deferredAwareness = null
    this.pending.length = 0
  }
}
