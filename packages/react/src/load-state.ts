import type { CardfileError, DocHandle, LoadSource, SyncState } from '@cardfile/core'

/**
 * Where what a hook shows comes from, so a UI never flashes an empty panel or a false "not
 * found": `source` is `none` (nothing yet), `local` (the device's copy, not yet confirmed) or
 * `server` (confirmed by the server).
 */
export interface LoadState {
  readonly source: LoadSource
  readonly status: SyncState
  /**
   * The latest error about the document (a refused edit, a close, a purge, or
   * `cache-discarded`: the device's copy came from another server database and was dropped), or
   * null.
   */
  readonly error: CardfileError | null
}

/** The load state of a handle (or of nothing open yet). */
export function loadStateOf(handle: DocHandle | null): LoadState {
  if (handle === null) return { source: 'none', status: 'connecting', error: null }
  const s = handle.status()
  return { source: s.source, status: s.status, error: handle.error() }
}
