/** Per-connection and per-socket bounds. Every one has a default; see {@link DEFAULT_LIMITS}. */
export interface ServerLimits {
  /** Largest accepted websocket frame (message) in bytes; larger ones close with 4413. */
  readonly maxFrameBytes: number
  /** Messages queued while authentication and document loading run; more close with 4429. */
  readonly maxPendingBeforeAuth: number
  /** Outbound bytes a connection may have buffered; a slower consumer is closed with 1013. */
  readonly maxBufferedBytes: number
  /** Sustained messages per second per connection; bursts of twice as many pass. */
  readonly messagesPerSecond: number
  /** Sustained awareness (presence) updates per second per connection; excess ones coalesce. */
  readonly awarenessPerSecond: number
  /** Time a socket has to send complete request headers (an upgrade included). */
  readonly headersTimeoutMs: number
  /** Time a plain HTTP request has to arrive whole, body included. */
  readonly requestTimeoutMs: number
  /** Time a websocket has to authenticate and open its document; then it is closed with 1013. */
  readonly authTimeoutMs: number
  /**
   * Interval of websocket pings; a socket that has not answered the previous one is dropped,
   * so a peer that vanished without closing costs at most two intervals.
   */
  readonly heartbeatMs: number
  /**
   * Sockets that have not yet sent a whole request or, for websockets, authenticated. Beyond
   * it new sockets are dropped at once, so half-open connections cannot exhaust the server.
   */
  readonly maxUnauthenticatedSockets: number
  /**
   * Documents one multiplexed socket may have open at once; a channel opened beyond it is
   * closed with 4429 `too-many-channels` (the socket and its other channels stay open).
   */
  readonly maxChannelsPerSocket: number
}

/** Defaults sized for contact panels: small documents, a few edits per second per agent. */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxPendingBeforeAuth: 64,
  maxBufferedBytes: 4 * 1024 * 1024,
  messagesPerSecond: 100,
  awarenessPerSecond: 10,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  authTimeoutMs: 15_000,
  heartbeatMs: 30_000,
  maxUnauthenticatedSockets: 1024,
  maxChannelsPerSocket: 512,
})

/**
 * Token-bucket arithmetic on a balance its holder keeps as a plain number (a connection keeps
 * two numbers, not an object): the balance after `elapsedMs` of refilling at `ratePerSecond`,
 * capped at `capacity`. Callers subtract a token themselves and may drive the balance negative,
 * which is how they learn how far over the rate a sender is without dropping what it sent.
 *
 * @example
 * tokens = refillTokens(tokens, now - refilledAt, 100, 200) - 1
 * if (tokens < 0) pauseFor(msUntilToken(tokens, 100))
 */
export function refillTokens(
  balance: number,
  elapsedMs: number,
  ratePerSecond: number,
  capacity: number,
): number {
  return Math.min(capacity, balance + (elapsedMs / 1000) * ratePerSecond)
}

/**
 * Milliseconds until a `balance` refilling at `ratePerSecond` is back to one whole token.
 *
 * @example
 * msUntilToken(-1, 100) // 20
 */
export function msUntilToken(balance: number, ratePerSecond: number): number {
  return balance >= 1 ? 0 : ((1 - balance) / ratePerSecond) * 1000
}
