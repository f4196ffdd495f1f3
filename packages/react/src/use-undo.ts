import { useCallback, useMemo } from 'react'
import { contactAccess } from './access'
import { useCardfileClient } from './context'
import { useDocumentSelector } from './use-document-selector'
import { withContact } from './with-handle'

/** What {@link useUndo} returns; the functions have stable identity. */
export interface UndoResult {
  readonly canUndo: boolean
  readonly canRedo: boolean
  /** Undoes your last change to this contact (never someone else's); false when none. */
  readonly undo: () => boolean
  readonly redo: () => boolean
}

/**
 * Undo and redo of the signed-in user's own changes to a contact.
 *
 * @example
 * function UndoButton({ contactId }: { contactId: string }) {
 *   const { canUndo, undo } = useUndo(contactId)
 *   return <button disabled={!canUndo} onClick={undo}>Undo</button>
 * }
 */
export function useUndo(id: string): UndoResult {
  const client = useCardfileClient()
  const state = useDocumentSelector(contactAccess(client.workspace, id), (handle) => ({
    canUndo: handle?.canUndo() ?? false,
    canRedo: handle?.canRedo() ?? false,
  }))
  const undo = useCallback(() => withContact(client, id, (h) => h.undo()), [client, id])
  const redo = useCallback(() => withContact(client, id, (h) => h.redo()), [client, id])
  return useMemo(() => ({ ...state, undo, redo }), [state, undo, redo])
}
