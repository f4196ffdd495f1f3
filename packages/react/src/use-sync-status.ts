import type { ClientStatus, DocStatus } from '@cardfile/core'
import { useCallback, useSyncExternalStore } from 'react'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'

const NOT_OPEN: DocStatus = Object.freeze({
  status: 'connecting',
  source: 'none',
  pending: 0,
  saved: true,
  localLoaded: false,
  purged: false,
  needsToken: false,
})

const OFFLINE: ClientStatus = Object.freeze({
  status: 'offline',
  pending: 0,
  saved: true,
  documents: 0,
})

/**
 * Sync status of one contact (`useSyncStatus(contactId)`), or of the whole client
 * (`useSyncStatus()`): connection state, load source and how many local changes the server has
 * not yet acknowledged as committed, so a UI can say "Saving…" or "Saved" honestly. For a
 * connection line, prefer {@link useConnectionStatus}: it says `idle` when nothing is open and
 * `needs-token` when the token was refused.
 *
 * @example
 * function SaveBadge({ contactId }: { contactId: string }) {
 *   const { saved, status } = useSyncStatus(contactId)
 *   return <span>{status === 'offline' ? 'Offline' : saved ? 'Saved' : 'Saving…'}</span>
 * }
 */
export function useSyncStatus(): ClientStatus
export function useSyncStatus(contactId: string): DocStatus
export function useSyncStatus(contactId?: string): ClientStatus | DocStatus {
  const client = useCardfileClient()
  const access = contactId === undefined ? null : contactAccess(client.workspace, contactId)
  const doc = useDocumentSelector(access, (handle) => handle?.status() ?? NOT_OPEN)
  const subscribe = useCallback((onChange: () => void) => client.subscribe(onChange), [client])
  const overall = useSyncExternalStore(
    subscribe,
    () => client.status(),
    () => OFFLINE,
  )
  return contactId === undefined ? overall : doc
}
