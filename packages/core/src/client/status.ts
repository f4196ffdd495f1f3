/**
 * Connection state of a document: `connecting` (first attempt under way), `syncing` (connected,
 * waiting for the server's state), `synced` (up to date with the server, live), `offline` (not
 * connected: disconnected on purpose, retrying after a drop, or closed for good).
 */
export type SyncState = 'connecting' | 'syncing' | 'synced' | 'offline'

/**
 * What the data shown comes from: `none` (nothing yet), `local` (the IndexedDB copy had
 * content; the server has not confirmed it yet), `server` (the server's state has arrived).
 */
export type LoadSource = 'none' | 'local' | 'server'

/** Status of one open document. */
export interface DocStatus {
  readonly status: SyncState
  readonly source: LoadSource
  /** Local changes not yet acknowledged as committed by the server. */
  readonly pending: number
  /** True when every local change is committed on the server (`pending === 0`). */
  readonly saved: boolean
  /** True once the local copy has been read (or when there is none to read). */
  readonly localLoaded: boolean
  /** The server deleted the document: its local copy is gone and it will not reconnect. */
  readonly purged: boolean
  /**
   * The server refused this document's token (or none could be fetched): it cannot sync until
   * a new token arrives (`client.refreshToken()`, or `getToken` succeeding on its next call).
   */
  readonly needsToken: boolean
}

/** Status of the whole client: the worst connection state and the sum of pending changes. */
export interface ClientStatus {
  readonly status: SyncState
  readonly pending: number
  readonly saved: boolean
  /** Number of open documents. */
  readonly documents: number
}

const RANK: Record<SyncState, number> = { synced: 0, syncing: 1, connecting: 2, offline: 3 }

/** Combines document statuses into the client's status. */
export function aggregateStatus(statuses: readonly DocStatus[], online: boolean): ClientStatus {
  let status: SyncState = online ? 'synced' : 'offline'
  let pending = 0
  for (const s of statuses) {
    if (!s.purged && RANK[s.status] > RANK[status]) status = s.status
    pending += s.pending
  }
  return { status, pending, saved: pending === 0, documents: statuses.length }
}

/** Shallow equality of two statuses, so unchanged statuses keep their identity. */
export const sameDocStatus = (a: DocStatus, b: DocStatus): boolean =>
  a.status === b.status &&
  a.source === b.source &&
  a.pending === b.pending &&
  a.localLoaded === b.localLoaded &&
  a.purged === b.purged &&
  a.needsToken === b.needsToken

/**
 * The client's connection as a status line should show it:
 * - `idle`: online, but no document is open, so there is nothing to sync (never `synced`).
 * - `connecting`: the first connection of an open document is under way.
 * - `syncing`: connected, waiting for the server's state of at least one document.
 * - `synced`: every open document is connected and up to date.
 * - `reconnecting`: a connection was lost (or refused for a transient reason) and is retried;
 *   edits keep being stored locally.
 * - `needs-token`: the server refused the token (or `getToken` failed): nothing syncs until a
 *   new token arrives. Show a sign-in prompt or call `client.refreshToken()`.
 * - `offline`: disconnected on purpose with `client.disconnect()`.
 */
export type ConnectionStatus =
  'idle' | 'connecting' | 'syncing' | 'synced' | 'reconnecting' | 'needs-token' | 'offline'

const CONNECTION_RANK: Record<'synced' | 'syncing' | 'connecting' | 'reconnecting', number> = {
  synced: 0,
  syncing: 1,
  connecting: 2,
  reconnecting: 3,
}

/**
 * Combines document statuses into the client's connection status. Purged documents do not
 * count: they are closed for good and will never connect again.
 */
export function aggregateConnection(
  statuses: readonly DocStatus[],
  online: boolean,
): ConnectionStatus {
  if (!online) return 'offline'
  const live = statuses.filter((s) => !s.purged)
  if (live.length === 0) return 'idle'
  if (live.some((s) => s.needsToken)) return 'needs-token'
  let worst: keyof typeof CONNECTION_RANK = 'synced'
  for (const s of live) {
    // Online, yet a document is offline: its connection dropped and is being retried.
    const state = s.status === 'offline' ? 'reconnecting' : s.status
    if (CONNECTION_RANK[state] > CONNECTION_RANK[worst]) worst = state
  }
  return worst
}

/**
 * What a lost-connection listener hears: `lost` (a synced connection dropped and is being
 * retried), `restored` (every document is synced again after a loss), `needs-token` (the
 * server refused the token; see {@link ConnectionStatus}).
 */
export type ConnectionEvent = 'lost' | 'restored' | 'needs-token'

/** The event a move from `prev` to `next` is, if any; `lost` says whether a loss is unresolved. */
export function connectionEvent(
  prev: ConnectionStatus,
  next: ConnectionStatus,
  lost: boolean,
): ConnectionEvent | null {
  if (prev === next) return null
  if (next === 'needs-token') return 'needs-token'
  if (prev === 'synced' && (next === 'reconnecting' || next === 'connecting')) return 'lost'
  if (next === 'synced' && lost) return 'restored'
  return null
}
