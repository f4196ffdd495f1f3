import { useCallback, useMemo, useState } from 'react'
import type { ConversationStatus } from '@cardfile/core'
import { useContactGroup } from '@cardfile/react'
import { listContacts, listConversations } from '../api'
import type { ContactRow, ConversationRow } from '../api'
import { loadQueueSnapshot, saveQueueSnapshot } from '../queue-snapshot'
import { navigate } from '../router'
import { useSession } from '../session-context'
import { usePolled } from '../use-polled'
import { ContactPanel } from './contact-panel'
import { ConversationView } from './conversation-view'
import { QueueList } from './queue-list'
import { StarIcon } from './icons'
import { VipContactList } from './vip-contact-list'
import { ContactSearchBox } from './contact-search-box'
import { useConversation } from '../use-conversation'
import { humanMessage } from '../human-message'

/** How often the queue is re-read from the server's index. */
const QUEUE_POLL_MS = 1500

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
  const view = statuses.join(',')
  const userId = session.user.userId
  const load = useCallback(async (): Promise<InboxData> => {
    const [conversations, contacts] = await Promise.all([
      listConversations(session, statuses),
      listContacts(session),
    ])
    saveQueueSnapshot(userId, view, { conversations, contacts })
    return { conversations, contacts: new Map(contacts.map((c) => [c.id, c])) }
  }, [session, statuses, userId, view])
  const polled = usePolled(`inbox:${view}`, load, QUEUE_POLL_MS)
  const { error, refresh } = polled
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
  const data = polled.data ?? saved
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
        {search.trim() !== ''
          ? null
          : error !== null && (
              <p className="notice error" data-testid="queue-error">
                {data === null ? 'Couldn’t load the queue.' : 'Showing the queue as last loaded.'}{' '}
                {humanMessage(error)}
              </p>
            )}
        {search.trim() !== '' ? null : filter === 'vip' ? (
          <VipContactList group={vip} selectedContactId={openContactId} />
        ) : data === null ? (
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
