import { useCallback, useMemo } from 'react'
import type { Presence } from '@cardfile/core'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'
import { withContact } from './with-handle'

/** What {@link usePresence} returns. */
export interface PresenceResult {
  /** The other people (and tabs) on this contact, with the field each is editing. */
  readonly others: readonly Presence[]
  /** Tells the others which field you are editing (`custom:<id>`, or null). Stable identity. */
  readonly setEditing: (field: string | null) => void
}

const NOBODY: readonly Presence[] = Object.freeze([])

/**
 * Who else is viewing a contact, and which field each is editing.
 *
 * @example
 * function Viewers({ contactId }: { contactId: string }) {
 *   const { others } = usePresence(contactId)
 *   return <Avatars users={others.map((p) => p.name)} />
 * }
 */
export function usePresence(id: string): PresenceResult {
  const client = useCardfileClient()
  const others = useDocumentSelector(
    contactAccess(client.workspace, id),
    (handle) => handle?.presence() ?? NOBODY,
  )
  const setEditing = useCallback(
    (field: string | null) => withContact(client, id, (h) => h.setEditing(field)),
    [client, id],
  )
  return useMemo(() => ({ others, setEditing }), [others, setEditing])
}
