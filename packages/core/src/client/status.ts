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
  a.purged === b.purged
