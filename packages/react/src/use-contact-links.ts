import { useCallback, useSyncExternalStore } from 'react'
import type { CardfileError } from '@cardfile/core'
import { apiJson } from '@cardfile/core'
import { useCardfileClient } from './context'
import { linksChanged } from './link-events'
import type { ContactLinkRecord } from './use-linked-contacts'
import { useLiveList } from './use-live-list'
import type { LiveListOptions, LiveListResult } from './use-live-list'
import { useTrackedRequests } from './tracked-requests'

/** One entry of the record of manual link changes: who linked, unlinked or reverted, when. */
export interface ContactLinkLogEntry {
  readonly seq: number
  /** The pair, in stored order (`a < b`). */
  readonly a: string
  readonly b: string
  /** `revert` gave the pair back to automatic linking (the matching attribute). */
  readonly action: 'link' | 'unlink' | 'revert'
  /** For an unlink (and its revert): the contact that was detached. */
  readonly subject: string
  readonly by: { readonly role: string; readonly userId: string }
  readonly at: number
}

/** Options of {@link useContactLinks}: the log's page size and polling, or no log at all. */
export interface UseContactLinksOptions extends LiveListOptions {
  /** Load the link log (default true); false for a UI that only links and unlinks. */
  readonly log?: boolean
}

/** What {@link useContactLinks} returns. */
export interface ContactLinksResult {
  /** Links `otherId` to this contact by hand, whatever their values; resolves the record. */
  link(otherId: string): Promise<ContactLinkRecord>
  /** Detaches `otherId` from this contact's group (a wrong automatic or manual link). */
  unlink(otherId: string): Promise<ContactLinkRecord>
  /** Forgets the manual link or unlink between the two: back to automatic linking. */
  revert(otherId: string): Promise<void>
  /** A change is in flight. */
  readonly pending: boolean
  /** The last change's error, or null (cleared by the next change that goes through). */
  readonly error: CardfileError | null
  /** Whether the signed-in user may link (agents and admins); the server enforces it as well. */
  readonly canLink: boolean
  /** The record of link changes that involve this contact, newest first, paginated (empty with `log: false`). */
  readonly log: LiveListResult<ContactLinkLogEntry>
}

/**
 * Links and unlinks a contact by hand, reversibly; the server records who did it. After each
 * change, every {@link useLinkedContacts} and {@link useContactHistory} list on this client
 * (and this hook's `log`) refreshes at once; other clients follow at their next poll. Calls
 * reject with a `CardfileError` (`not-found` for an unknown contact or an unknown pair on
 * revert, `forbidden` for a bot) and keep it in `error`.
 *
 * @example
 * function Unlink({ contactId, otherId }: { contactId: string; otherId: string }) {
 *   const { unlink, revert, pending, canLink, log } = useContactLinks(contactId)
 *   if (!canLink) return null
 *   return (
 *     <>
 *       <button disabled={pending} onClick={() => void unlink(otherId)}>Not the same person</button>
 *       {log.items.map((e) => (
 *         <p key={e.seq}>
 *           {e.action} by {e.by.userId} <button onClick={() => void revert(e.a === contactId ? e.b : e.a)}>Undo</button>
 *         </p>
 *       ))}
 *     </>
 *   )
 * }
 */
export function useContactLinks(
  contactId: string,
  options: UseContactLinksOptions = {},
): ContactLinksResult {
  const client = useCardfileClient()
  const canLink = useSyncExternalStore(
    (onChange) => client.subscribe(onChange),
    () => {
      const role = client.actor()?.role
      return role === 'agent' || role === 'admin'
    },
    () => false,
  )
  const { answer: _answer, ...log } = useLiveList<ContactLinkLogEntry>(
    options.log === false ? null : { kind: 'links-log', contactId },
    options,
  )
  const { pending, error, track } = useTrackedRequests()

  const change = useCallback(
    <T>(path: string, init: RequestInit): Promise<T> =>
      track(async () => {
        const answer = await apiJson<T>(
          client,
          `/api/${encodeURIComponent(client.workspace)}/contacts/${encodeURIComponent(contactId)}/links${path}`,
          init,
        )
        linksChanged(client)
        return answer
      }),
    [client, contactId, track],
  )

  const post = useCallback(
    async (otherId: string, kind: 'link' | 'unlink') =>
      (
        await change<{ record: ContactLinkRecord }>('', {
          method: 'POST',
          body: JSON.stringify({ contactId: otherId, kind }),
        })
      ).record,
    [change],
  )
  const link = useCallback((otherId: string) => post(otherId, 'link'), [post])
  const unlink = useCallback((otherId: string) => post(otherId, 'unlink'), [post])
  const revert = useCallback(
    async (otherId: string) => {
      await change<unknown>(`/${encodeURIComponent(otherId)}`, { method: 'DELETE' })
    },
    [change],
  )

  return { link, unlink, revert, pending: pending > 0, error, canLink, log }
}
