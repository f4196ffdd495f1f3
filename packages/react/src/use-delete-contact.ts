import { useCallback, useSyncExternalStore } from 'react'
import { apiJson } from '@cardfile/core'
import type { CardfileClient, ChannelId, CardfileError } from '@cardfile/core'
import { useCardfileClient } from './context'
import { useTrackedRequests } from './tracked-requests'

/** One record of the deleted-contacts audit log, as the server answers it. */
export interface DeletedContactRecord {
  readonly id: string
  readonly workspace: string
  /** The contact's masked handle, such as `@an***a`. */
  readonly hint: string
  readonly channel: ChannelId
  readonly deletedAt: number
  readonly deletedBy: { readonly userId: string; readonly name: string | null }
}

/** Options of `deleteContact`. */
export interface DeleteContactOptions {
  /**
   * Also delete every contact linked to this one (the same person on other channels, by the
   * matching attribute or by hand), in the same action, with one audit record each.
   */
  readonly linked?: boolean
}

/** The audit record of a deleted contact, with those of the linked contacts deleted with it. */
export type DeletedContactAnswer = DeletedContactRecord & {
  /** Records of the linked contacts deleted with it (empty unless asked for). */
  readonly linked: readonly DeletedContactRecord[]
}

/** What {@link useDeleteContact} returns. */
export interface DeleteContactResult {
  /**
   * Deletes a contact for good (with its linked contacts when `options.linked`); resolves the
   * audit record, rejects with a `CardfileError`.
   */
  deleteContact(contactId: string, options?: DeleteContactOptions): Promise<DeletedContactAnswer>
  /** A deletion is in flight. */
  readonly pending: boolean
  /** The last deletion's error, or null. */
  readonly error: CardfileError | null
  /** Whether the signed-in user may delete (admins); the server enforces it as well. */
  readonly canDelete: boolean
}

const deletedListeners = new WeakMap<CardfileClient, Set<() => void>>()

/** Listens to deletions made through {@link useDeleteContact} on this client (internal). */
export function onContactDeleted(client: CardfileClient, listener: () => void): () => void {
  let set = deletedListeners.get(client)
  if (set === undefined) deletedListeners.set(client, (set = new Set()))
  set.add(listener)
  return () => set.delete(listener)
}

/**
 * Deletes contacts (admins only): the contact, its conversations, messages and attachments are
 * erased on the server, every connected client drops its copy (IndexedDB included), and one
 * record is added to the deleted-contacts log. With `{ linked: true }` the person goes on every
 * channel: each linked contact is erased too, with a record of its own. Needs the client's HTTP
 * endpoint (`client.apiEndpoint()`).
 *
 * @example
 * function DeleteButton({ contactId }: { contactId: string }) {
 *   const { deleteContact, pending, canDelete } = useDeleteContact()
 *   if (!canDelete) return null
 *   return <button disabled={pending} onClick={() => deleteContact(contactId)}>Delete</button>
 * }
 * // Everywhere the person wrote from:
 * const { linked } = await deleteContact(contactId, { linked: true })
 */
export function useDeleteContact(): DeleteContactResult {
  const client = useCardfileClient()
  const canDelete = useSyncExternalStore(
    (onChange) => client.subscribe(onChange),
    () => client.actor()?.role === 'admin',
    () => false,
  )
  const { pending, error, track } = useTrackedRequests()

  const deleteContact = useCallback(
    async (contactId: string, options: DeleteContactOptions = {}): Promise<DeletedContactAnswer> =>
      track(async () => {
        const query = options.linked === true ? '?linked=true' : ''
        const answer = await apiJson<{
          deleted: DeletedContactRecord
          linked?: DeletedContactRecord[]
        }>(
          client,
          `/api/${encodeURIComponent(client.workspace)}/contacts/${encodeURIComponent(contactId)}${query}`,
          { method: 'DELETE' },
        )
        for (const listener of deletedListeners.get(client) ?? []) listener()
        return { ...answer.deleted, linked: answer.linked ?? [] }
      }),
    [client, track],
  )

  return { deleteContact, pending: pending > 0, error, canDelete }
}
