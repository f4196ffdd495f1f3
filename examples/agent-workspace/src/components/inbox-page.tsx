import { useCallback, useEffect, useMemo, useState } from 'react'
import type { ConversationStatus } from '@cardfile/core'
import {
  useConnectionStatus,
  useContactGroup,
  useContacts,
  useConversation,
  useConversations,
} from '@cardfile/react'
import type { InboxListResult } from '@cardfile/react'
import type { ContactRow, ConversationRow } from '../api'
import { loadQueueSnapshot, saveQueueSnapshot } from '../queue-snapshot'
import { navigate } from '../router'
import { useSession } from '../session-context'
import { ContactPanel } from './contact-panel'
import { ConversationView } from './conversation-view'
import { QueueList } from './queue-list'
import { StarIcon } from './icons'
import { VipContactList } from './vip-contact-list'
import { ContactSearchBox } from './contact-search-box'
import { OFFLINE_MESSAGE, humanMessage } from '../human-message'

/** Rows per request; the inbox keeps loading pages up to {@link MAX_ROWS}. */
const PAGE = 200
const MAX_ROWS = 1000

/**
 * Loads every page of a live list (up to {@link MAX_ROWS}): the inbox groups the conversations
 * by team itself, and names them from the contacts.
 */
function useAllPages<T>(list: InboxListResult<T>): InboxListResult<T> {
  const { hasMore, loading, error, loadMore, items } = list
  useEffect(() => {
    if (hasMore && !loading && error === null && items.length < MAX_ROWS) loadMore()
  }, [hasMore, loading, error, loadMore, items.length])
  return list
}

/** The inbox's list views: the open or resolved queues, or the VIP contact group. */
export type QueueFilter = 'open' | 'resolved' | 'vip'

const FILTER_LABELS: Record<QueueFilter, string> = {
  open: 'Open',
  resolved: 'Resolved',
  vip: 'VIP',
}

/** Conversations loaded per view; the VIP view keeps the open ones (the header reads them). */
const STATUSES: Record<QueueFilter, readonly ConversationStatus[]> = {
  open: ['new', 'pending'],
  resolved: ['resolved'],
  vip: ['new', 'pending'],
}

interface InboxData {
  readonly conversations: readonly ConversationRow[]
  readonly contacts: ReadonlyMap<string, ContactRow>
}

/** Queues on the left, the conversation in the middle, the contact panel on the right. */
export function InboxPage({ conversationId }: { conversationId: string | null }) {
  const session = useSession()
  const [chosen, setFilter] = useState<QueueFilter>('open')
  const [search, setSearch] = useState('')
  const vip = useContactGroup('vip')
  // With VIP switched off (by an admin, live) the VIP view goes away with its tab.
  const filter: QueueFilter = chosen === 'vip' && !vip.enabled ? 'open' : chosen
  const filters: readonly QueueFilter[] = vip.enabled
    ? ['open', 'resolved', 'vip']
    : ['open', 'resolved']
  const statuses = STATUSES[filter]
  const group = filter === 'vip' ? 'vip' : undefined
  const view = `${statuses.join(',')}${group === undefined ? '' : `:${group}`}`
  const userId = session.user.userId
  // Live lists: the server pushes every change of them, nothing is polled.
  const conversations = useAllPages(
    useConversations(group === undefined ? { status: statuses } : { status: statuses, group }, {
      pageSize: PAGE,
    }),
  )
  const contacts = useAllPages(useContacts({}, { pageSize: PAGE }))
  const error = conversations.error ?? contacts.error
  const loaded = !conversations.loading && !contacts.loading && error === null
  const live = useMemo(
    (): InboxData | null =>
      loaded
        ? {
            conversations: conversations.items,
            contacts: new Map(contacts.items.map((c) => [c.id, c])),
          }
        : null,
    [loaded, conversations.items, contacts.items],
  )
  useEffect(() => {
    if (live !== null) {
      saveQueueSnapshot(userId, view, {
        conversations: live.conversations,
        contacts: [...live.contacts.values()],
      })
    }
  }, [live, userId, view])
  const refreshConversations = conversations.refresh
  const refreshContacts = contacts.refresh
  // After a change made here: at once, without waiting for the server's word.
  const refresh = useCallback(() => {
    refreshConversations()
    refreshContacts()
  }, [refreshConversations, refreshContacts])
  // Until the server answers (or while it cannot be reached), the queue as last loaded here.
  const saved = useMemo((): InboxData | null => {
    const snapshot = loadQueueSnapshot(userId, view)
    return snapshot === null
      ? null
      : {
          conversations: snapshot.conversations,
          contacts: new Map(snapshot.contacts.map((c) => [c.id, c])),
        }
  }, [userId, view])
  const data = live ?? saved
  // Pushed lists fetch nothing while nothing changes, so going offline raises no fetch error:
  // the connection says it instead.
  const offline = useConnectionStatus() === 'offline'
  const openContactId = data?.conversations.find((c) => c.id === conversationId)?.contactId ?? null

  return (
    <div className="inbox">
      <aside className="queues" aria-label="Queues">
        <div className="queues-header">
          <h2>Inbox</h2>
          <div className="segmented" role="tablist" aria-label="Conversation status">
            {filters.map((f) => (
              <button
                key={f}
                type="button"
                role="tab"
                aria-selected={filter === f}
                className={filter === f ? 'selected' : ''}
                onClick={() => setFilter(f)}
                data-testid={`filter-${f}`}
                title={f === 'vip' ? 'VIP contacts' : undefined}
              >
                {f === 'vip' && <StarIcon filled size={12} />}
                {FILTER_LABELS[f]}
              </button>
            ))}
          </div>
        </div>
        <ContactSearchBox text={search} onText={setSearch} selectedContactId={openContactId} />
        {search.trim() === '' && (error !== null || offline) && (
          <p className="notice error" data-testid="queue-error">
            {data === null ? 'Couldn’t load the queue.' : 'Showing the queue as last loaded.'}{' '}
            {offline || error === null ? OFFLINE_MESSAGE : humanMessage(error)}
          </p>
        )}
        {search.trim() === '' && filter === 'vip' && (
          <VipContactList group={vip} selectedContactId={openContactId} />
        )}
        {search.trim() !== '' ? null : data === null ? (
          <p className="muted pad">Loading conversations…</p>
        ) : (
          <QueueList
            conversations={data.conversations}
            contacts={data.contacts}
            selectedId={conversationId}
            onSelect={(id) => navigate(`/inbox/${encodeURIComponent(id)}`)}
          />
        )}
      </aside>
      {conversationId === null ? (
        <>
          <section className="conversation-column" aria-label="Conversation">
            <div className="empty-state">
              <h2>Pick a conversation</h2>
              <p className="muted">Queues are sorted by priority: VIP contacts rise to the top.</p>
              <p className="muted">
                Press <kbd>j</kbd> to open the first one, <kbd>?</kbd> for all keyboard shortcuts.
              </p>
            </div>
          </section>
          <aside className="contact-column" aria-label="Contact">
            <div className="empty-state small">
              <p className="muted">The contact&rsquo;s details show here.</p>
            </div>
          </aside>
        </>
      ) : (
        <OpenConversation
          key={conversationId}
          conversationId={conversationId}
          contacts={data?.contacts ?? null}
          onChanged={refresh}
        />
      )}
    </div>
  )
}

/** The middle and right columns for one open conversation (read live from its document). */
function OpenConversation({
  conversationId,
  contacts,
  onChanged,
}: {
  conversationId: string
  contacts: ReadonlyMap<string, ContactRow> | null
  onChanged: () => void
}) {
  const conversation = useConversation(conversationId)
  const { meta, purged } = conversation
  const contact = meta === null ? undefined : contacts?.get(meta.contactId)
  if (purged) {
    return (
      <>
        <section className="conversation-column" aria-label="Conversation">
          <div className="empty-state" data-testid="conversation-deleted">
            <h2>This contact was deleted</h2>
            <p className="muted">Its conversations and details are gone from this device too.</p>
          </div>
        </section>
        <aside className="contact-column" aria-label="Contact" />
      </>
    )
  }
  return (
    <>
      <section className="conversation-column" aria-label="Conversation">
        <ConversationView
          conversation={conversation}
          vip={contact?.vip ?? false}
          onChanged={onChanged}
        />
      </section>
      <aside className="contact-column" aria-label="Contact">
        {meta !== null && (
          <ContactPanel
            key={meta.contactId}
            contactId={meta.contactId}
            channel={meta.channel}
            conversationId={conversationId}
            onChanged={onChanged}
            onDeleted={() => {
              navigate('/inbox')
              onChanged()
            }}
          />
        )}
      </aside>
    </>
  )
}
