import { useEffect, useMemo, useRef, useState } from 'react'
import { apiJson } from '@cardfile/core'
import type { CardfileClient, IndexedContact, IndexedConversation } from '@cardfile/core'
import { useCardfileClient } from './context'
import { useLiveList } from './use-live-list'
import type { LiveListOptions, LiveListResult } from './use-live-list'

/** A row of the cross-channel history: the conversation and its contact's masked handle. */
export interface HistoryConversation extends IndexedConversation {
  /** The masked handle of the conversation's contact (`an***@ex***.com`); null until known. */
  readonly hint: string | null
}

/** What {@link useContactHistory} returns. */
export interface ContactHistoryResult extends LiveListResult<HistoryConversation> {
  /** The contacts of the group, this one included (as far as known), newest first. */
  readonly members: readonly IndexedContact[]
  /** The group was cut at the server's limit: older members' conversations are left out. */
  readonly truncated: boolean
}

interface HistoryAnswer {
  readonly items: IndexedConversation[]
  readonly next: string | null
  /** Ids of the group's members (the history endpoint names them, without their handles). */
  readonly contacts: string[]
  readonly truncated: boolean
}

interface LinkedPage {
  readonly contact: IndexedContact
  readonly items: IndexedContact[]
  readonly next: string | null
}

/** Most members one request of the linked endpoint answers. */
const MEMBERS_PAGE = 200

/**
 * The group's members by id, read from the linked-contacts endpoint (the history endpoint gives
 * only their ids), page after page until every id in `wanted` is known or the group ends.
 */
async function membersOf(
  client: CardfileClient,
  contactId: string,
  wanted: ReadonlySet<string>,
): Promise<Map<string, IndexedContact>> {
  const found = new Map<string, IndexedContact>()
  const base = `/api/${encodeURIComponent(client.workspace)}/contacts/${encodeURIComponent(contactId)}/linked?limit=${MEMBERS_PAGE}`
  let cursor: string | null = null
  do {
    const page: LinkedPage = await apiJson<LinkedPage>(
      client,
      cursor === null ? base : `${base}&cursor=${encodeURIComponent(cursor)}`,
    )
    found.set(page.contact.id, page.contact)
    for (const c of page.items) found.set(c.id, c)
    cursor = page.next
  } while (cursor !== null && [...wanted].some((id) => !found.has(id)))
  return found
}

/**
 * A contact's cross-channel history: every conversation of every contact linked to it, newest
 * first, a page at a time, each row with its contact's masked handle (`hint`). Live: the server
 * pushes new conversations, status changes, links and unlinks by anyone, and links changed
 * through {@link useContactLinks} refresh it at once. Open a conversation with
 * `client.conversation(id)` to read its messages.
 *
 * @example
 * function History({ contactId }: { contactId: string }) {
 *   const { items, hasMore, loadMore } = useContactHistory(contactId, { pageSize: 20 })
 *   return (
 *     <ol>
 *       {items.map((c) => <li key={c.id}>{c.hint} · {c.channel} · {c.status}</li>)}
 *       {hasMore && <button onClick={loadMore}>Older</button>}
 *     </ol>
 *   )
 * }
 */
export function useContactHistory(
  contactId: string,
  options: LiveListOptions = {},
): ContactHistoryResult {
  const client = useCardfileClient()
  const { answer, ...list } = useLiveList<IndexedConversation, HistoryAnswer>(
    { kind: 'history', contactId },
    options,
  )

  // Handles do not change, so members are kept by id across answers and only the ones not
  // seen yet are fetched: a refresh of an unchanged group costs no extra request.
  const [known, setKnown] = useState<ReadonlyMap<string, IndexedContact>>(() => new Map())
  const knownRef = useRef(known)
  knownRef.current = known
  const contacts = answer?.contacts
  useEffect(() => {
    const missing = (contacts ?? []).filter((id) => !knownRef.current.has(id))
    if (missing.length === 0) return
    let live = true
    membersOf(client, contactId, new Set(missing)).then(
      (found) => {
        if (!live) return
        setKnown((prev) => {
          const next = new Map(prev)
          for (const [id, c] of found) next.set(id, c)
          return next
        })
      },
      // Handles are a nicety: the history itself loaded, and the next answer tries again.
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [client, contactId, contacts])

  const items = useMemo(
    () => list.items.map((c) => ({ ...c, hint: known.get(c.contactId)?.hint ?? null })),
    [list.items, known],
  )
  const members = useMemo(
    () =>
      (contacts ?? []).flatMap((id) => {
        const c = known.get(id)
        return c === undefined ? [] : [c]
      }),
    [contacts, known],
  )
  return { ...list, items, members, truncated: answer?.truncated ?? false }
}
