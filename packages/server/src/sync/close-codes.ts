/**
 * Websocket close codes the server uses, as documented in PROTOCOL.md. 4400-4499 are permanent
 * (a stock y-websocket provider stops reconnecting), 1013 and 4500+ are transient.
 *
 * @example
 * ws.close(CloseCodes.Unauthorized.code, CloseCodes.Unauthorized.reason)
 */
export const CloseCodes = {
  /** The server is shutting down. */
  GoingAway: { code: 1001, reason: 'going-away' },
  /** Shutting down or overloaded (for example a consumer too slow to keep up): reconnect later. */
  TryAgainLater: { code: 1013, reason: 'try-again-later' },
  BadRequest: { code: 4400, reason: 'bad-request' },
  Unauthorized: { code: 4401, reason: 'unauthorized' },
  Forbidden: { code: 4403, reason: 'forbidden' },
  /**
   * The client's cache comes from another store than the server's (its `generation` parameter
   * names another generation): nothing it sent is applied; it drops the cache and reconnects.
   */
  StaleGeneration: { code: 4409, reason: 'stale-generation' },
  Deleted: { code: 4410, reason: 'deleted' },
  PayloadTooLarge: { code: 4413, reason: 'payload-too-large' },
  RateLimited: { code: 4429, reason: 'rate-limited' },
  Internal: { code: 4500, reason: 'internal' },
} as const

export type CloseCodeName = keyof typeof CloseCodes

/** One close code with its default reason. */
export interface CloseCode {
  readonly code: number
  readonly reason: string
}
