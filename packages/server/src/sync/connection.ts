import type { WebSocket } from 'ws'
import type { AuthenticatedActor } from '../auth/authenticate'
import type { ServerMetrics } from '../metrics'
import { CloseCodes } from '@cardfile/core'
import type { CloseCode } from '@cardfile/core'
import type { ServerLimits } from './limits'
import { msUntilToken, refillTokens } from './limits'
import { binaryFrame } from './wire-frame'
import type { SharedMessage } from './wire-frame'

/**
 * What the server's websockets carry besides ws' own state: the TCP socket under them (kept
 * from the upgrade), which frames built in wire-frame.ts are written to. Writing beside ws is
 * safe because, with no compression negotiated and no Blob ever sent, ws writes every frame of
 * its own (pings, closes) to that socket synchronously, in call order: nothing is queued in ws
 * that a frame written here could overtake. Absent (a test's stand-in): frames go through ws.
 */
export interface TransportCarrier {
  readonly transport?: { write(chunk: Uint8Array): boolean } | null
}

/** How long a closing socket may take to finish the close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 3000

/** Presence state of a connection that sent awareness; most connections never need one. */
export interface Presence {
  /** Awareness client ids this connection has set states for (removed when it drops). */
  readonly ids: Set<number>
  /** Awareness rate limit: token balance and when it was last refilled (performance.now()). */
  tokens: number
  refilledAt: number
  /** The latest awareness update held back by the awareness rate limit. */
  deferred: Uint8Array | null
  deferredTimer: ReturnType<typeof setTimeout> | null
}

/**
 * One client connection: a websocket on one document, its actor once authenticated, its rate
 * limits and, once it sends presence, the awareness client ids it controls. Sending goes
 * through {@link send}, which closes consumers that cannot keep up instead of buffering for
 * them without bound.
 *
 * A server holds thousands of these, so an idle one is kept small: the rate limit is two
 * numbers, and the queue before authentication, the presence state and the token expiry
 * (one shared timer for all connections) cost nothing until they are used.
 */
export class Connection {
  /** Names the connection in log lines (set by the server when the socket arrives). */
  id = ''
  actor: AuthenticatedActor | null = null
  /** Presence state, created by the first awareness update (null: none sent). */
  presence: Presence | null = null
  closed = false
  /** When the token expires (ms since epoch), or 0 when it does not. */
  expiresAt = 0
  /** Heard from since the last heartbeat ping (a pong or any message). */
  alive = true
  /** Message rate limit: token balance and when it was last refilled (performance.now()). */
  private tokens: number
  private refilledAt: number
  /** Messages received before the connection was attached to its document. */
  private queued: Uint8Array[] | null = null
  private resumeTimer: ReturnType<typeof setTimeout> | null = null

  constructor(
    readonly ws: WebSocket,
    /** The document's name; replaced by the live document's own copy once attached. */
    public docName: string,
    /** Opted in to Cardfile's message types (`cardfile=1`). */
    readonly extended: boolean,
    readonly limits: ServerLimits,
    protected readonly metrics: ServerMetrics,
  ) {
    this.tokens = limits.messagesPerSecond * 2
    this.refilledAt = performance.now()
  }

  /** True while messages can still be sent. */
  get open(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN
  }

  /**
   * Sends `message` unless the connection is closed. A connection whose outbound buffer is
   * over the limit is a consumer too slow to keep up: it is closed (transient, it may come back
   * and resync) rather than buffered for without bound. Returns whether it was sent (callers
   * that broadcast count the bytes once).
   */
  send(message: Uint8Array): boolean {
    if (!this.sendUncounted(message)) return false
    this.metrics.bytesSent.inc(message.byteLength)
    return true
  }

  /** {@link send} without counting bytes sent: broadcasts count them once for all receivers. */
  sendUncounted(message: Uint8Array): boolean {
    return this.write(message)
  }

  /**
   * One message of a broadcast, without counting bytes: the frame every socket writes is built
   * once for all of them.
   */
  sendShared(message: SharedMessage): boolean {
    return this.hasTransport() ? this.writeWire(message.wireFrame()) : this.write(message.bytes)
  }

  /** True when frames built here can be written to the socket (see {@link TransportCarrier}). */
  protected hasTransport(): boolean {
    const transport = (this.ws as TransportCarrier).transport
    return transport !== undefined && transport !== null
  }

  /**
   * Writes `bytes` as one binary frame on the socket, closing a consumer too slow to keep up;
   * a multiplexed socket writes its channels' framed messages through it.
   */
  protected write(bytes: Uint8Array): boolean {
    if (this.hasTransport()) return this.open && this.writeWire(binaryFrame(bytes))
    if (!this.open) return false
    if (this.ws.bufferedAmount + bytes.byteLength > this.limits.maxBufferedBytes) {
      this.close({ code: CloseCodes.TryAgainLater.code, reason: 'slow-consumer' })
      return false
    }
    this.ws.send(bytes, SEND_BINARY)
    return true
  }

  /**
   * Writes a whole websocket frame (header included) to the socket under ws, in one buffer:
   * one write per socket instead of ws' header and payload. Only with a transport.
   */
  protected writeWire(frame: Uint8Array): boolean {
    const transport = (this.ws as TransportCarrier).transport
    if (!this.open || transport === undefined || transport === null) return false
    // ws counts what waits in the socket's buffer, frames written here included.
    if (this.ws.bufferedAmount + frame.byteLength > this.limits.maxBufferedBytes) {
      this.close({ code: CloseCodes.TryAgainLater.code, reason: 'slow-consumer' })
      return false
    }
    transport.write(frame)
    return true
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
    const rate = this.messageRate()
    const now = performance.now()
    this.tokens = refillTokens(this.tokens, now - this.refilledAt, rate, rate * 2) - 1
    this.refilledAt = now
    const balance = this.tokens
    if (balance >= 0) return true
    if (balance < -rate * 3) {
      this.close(CloseCodes.RateLimited)
      return false
    }
    if (this.resumeTimer === null && this.open) {
      this.ws.pause()
      this.resumeTimer = setTimeout(
        () => {
          this.resumeTimer = null
          if (this.open) this.ws.resume()
        },
        msUntilToken(balance, rate),
      )
    }
    return true
  }

  /** Messages per second this connection may send (see {@link admit}). */
  protected messageRate(): number {
    return this.limits.messagesPerSecond
  }

  /**
   * Queues a message received before the connection is attached to its document; false (and
   * the connection closed with 4429) when `maxPendingBeforeAuth` are already queued.
   */
  queue(message: Uint8Array): boolean {
    const queued = (this.queued ??= [])
    if (queued.length >= this.limits.maxPendingBeforeAuth) {
      this.close({ code: CloseCodes.RateLimited.code, reason: 'too-many-messages-before-auth' })
      return false
    }
    queued.push(message)
    return true
  }

  /** Takes the messages queued before attachment, oldest first. */
  takeQueued(): Uint8Array[] {
    const queued = this.queued ?? []
    this.queued = null
    return queued
  }

  /** Presence state, created on first use. */
  presenceState(): Presence {
    return (this.presence ??= {
      ids: new Set(),
      tokens: this.limits.awarenessPerSecond * 2,
      refilledAt: performance.now(),
      deferred: null,
      deferredTimer: null,
    })
  }

  /**
   * Takes an awareness token when one is available: false when the sender is over the
   * awareness rate (the caller defers the update for {@link awarenessWaitMs}).
   */
  takeAwarenessToken(): boolean {
    const presence = this.presenceState()
    const rate = this.limits.awarenessPerSecond
    const now = performance.now()
    presence.tokens = refillTokens(presence.tokens, now - presence.refilledAt, rate, rate * 2)
    presence.refilledAt = now
    if (presence.tokens < 1) return false
    presence.tokens -= 1
    return true
  }

  /** Milliseconds until an awareness token is available again (after a refused take). */
  awarenessWaitMs(): number {
    return msUntilToken(this.presenceState().tokens, this.limits.awarenessPerSecond)
  }

  /**
   * Closes the connection when its token expires (`ms` since epoch); null for a token without
   * expiry. A later call (a refreshed token) replaces the expiry.
   */
  expireAt(ms: number | null): void {
    // Tokens valid for longer than a timer can wait (~24.8 days) are re-checked on reconnect.
    if (ms === null || ms - Date.now() > 2 ** 31 - 1) {
      if (this.expiresAt !== 0) expiryClock.forget(this)
      this.expiresAt = 0
      return
    }
    this.expiresAt = ms
    expiryClock.watch(this)
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
    this.resumeTimer = null
    if (this.expiresAt !== 0) expiryClock.forget(this)
    const presence = this.presence
    if (presence !== null) {
      if (presence.deferredTimer !== null) clearTimeout(presence.deferredTimer)
      presence.deferredTimer = null
      presence.deferred = null
    }
    this.queued = null
  }
}

/** ws send options for every message: binary frames (shared, not one object per send). */
const SEND_BINARY = Object.freeze({ binary: true })

/**
 * Closes connections whose token ran out, with one timer for all of them instead of one per
 * connection: it is set for the earliest expiry and, when it fires, closes every connection
 * that is due and sets itself for the next. Connections expiring within a second of each other
 * are closed together (up to a second late) so a crowd of tokens does not mean a crowd of
 * wake-ups.
 */
class ExpiryClock {
  private readonly watched = new Set<Connection>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private due = Number.POSITIVE_INFINITY

  watch(conn: Connection): void {
    this.watched.add(conn)
    this.schedule(conn.expiresAt)
  }

  forget(conn: Connection): void {
    this.watched.delete(conn)
    if (this.watched.size === 0 && this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
      this.due = Number.POSITIVE_INFINITY
    }
  }

  private schedule(at: number): void {
    if (at >= this.due) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.due = at
    this.timer = setTimeout(this.fire, Math.max(0, at - Date.now()))
    // Open sockets keep the process alive; the clock alone must not.
    this.timer.unref()
  }

  private readonly fire = (): void => {
    this.timer = null
    this.due = Number.POSITIVE_INFINITY
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const conn of this.watched) {
      if (conn.expiresAt <= now) {
        // Closing removes it from `watched`; deleting the current entry is safe while iterating.
        conn.close({ code: CloseCodes.Unauthorized.code, reason: 'token-expired' })
      } else if (conn.expiresAt < next) {
        next = conn.expiresAt
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.schedule(Math.max(next, now + 1000))
  }
}

const expiryClock = new ExpiryClock()
