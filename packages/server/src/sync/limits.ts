/** Per-connection bounds. Every one has a default; see {@link DEFAULT_LIMITS}. */
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
}

/** Defaults sized for contact panels: small documents, a few edits per second per agent. */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxPendingBeforeAuth: 64,
  maxBufferedBytes: 4 * 1024 * 1024,
  messagesPerSecond: 100,
  awarenessPerSecond: 10,
})

/**
 * A token bucket: `capacity` tokens refilled at `ratePerSecond`. `take()` may drive the balance
 * negative, which is how the caller learns how far over the rate a sender is (and for how long
 * to pause it) without dropping the message it already received.
 *
 * @example
 * const bucket = new TokenBucket(100, 200)
 * if (bucket.take() < 0) pauseFor(bucket.msUntilPositive())
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity
    this.last = now()
  }

  /** Takes one token and returns the balance left (negative when over the rate). */
  take(): number {
    this.refill()
    this.tokens -= 1
    return this.tokens
  }

  /** Whether a token is available now, without taking it. */
  available(): boolean {
    this.refill()
    return this.tokens >= 1
  }

  /** Milliseconds until the balance is back to one whole token. */
  msUntilAvailable(): number {
    this.refill()
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.ratePerSecond) * 1000
  }

  private refill(): void {
    const now = this.now()
    const elapsed = (now - this.last) / 1000
    this.last = now
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.ratePerSecond)
  }
}
