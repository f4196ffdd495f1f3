import { useContactHistory } from '@cardfile/react'
import { identityOfRow, labelOf } from '../contact-identity'
import { channelLabel, clockTime } from '../format'
import { navigate } from '../router'
import { ChannelIcon } from './channel-icon'
import { humanMessage } from '../human-message'

/**
 * The cross-channel history: every conversation of every contact linked to this one, newest
 * first, a page at a time, from `useContactHistory` (live: it follows the contact, and links
 * changed by hand). Each row names its contact and opens its conversation.
 */
export function ContactHistory({
  contactId,
  conversationId,
  pageSize,
}: {
  /** The panel's contact: its rows say "this contact" instead of a name. */
  contactId: string
  /** The conversation open beside the panel, marked in the list. */
  conversationId: string | null
  /** Conversations per page. */
  pageSize: number
}) {
  const { items, members, hasMore, loading, error, loadMore } = useContactHistory(contactId, {
    pageSize,
  })
  const memberById = new Map(members.map((m) => [m.id, m]))
  return (
    <section aria-label="Conversation history">
      <h3 className="panel-section">
        Conversation history
        {items.length > 0 && (
          // The server pages without a total: "5+" while more are behind "Show more".
          <span className="count">
            {items.length}
            {hasMore ? '+' : ''}
          </span>
        )}
      </h3>
      {error !== null && (
        <p className="notice error" role="alert">
          Couldn&rsquo;t load the history. {humanMessage(error)}
        </p>
      )}
      {items.length === 0 && !loading && error === null && (
        <p className="muted small">No conversations yet.</p>
      )}
      <ol className="history" data-testid="history">
        {items.map((c) => {
          const current = c.id === conversationId
          const own = c.contactId === contactId
          const member = memberById.get(c.contactId)
          const who = own
            ? 'This contact'
            : member === undefined
              ? 'Linked contact'
              : labelOf(identityOfRow(member))
          return (
            <li key={c.id}>
              <button
                type="button"
                className={`history-item${current ? ' current' : ''}`}
                onClick={() => navigate(`/inbox/${encodeURIComponent(c.id)}`)}
                aria-current={current ? 'true' : undefined}
                data-testid="history-item"
                data-conversation-id={c.id}
                data-contact-id={c.contactId}
                data-channel={c.channel}
                data-status={c.status}
              >
                <ChannelIcon channel={c.channel} />
                <span className="history-item-main">
                  <span className="history-item-who">
                    {who}
                    {current && <span className="here-tag">Viewing</span>}
                  </span>
                  <span className="muted">
                    {channelLabel(c.channel)} · {clockTime(c.createdAt)}
                  </span>
                </span>
                <span className={`status-pill status-${c.status}`}>{c.status}</span>
              </button>
            </li>
          )
        })}
      </ol>
      {hasMore && (
        <button
          type="button"
          className="button small ghost show-more"
          onClick={loadMore}
          disabled={loading}
          data-testid="history-more"
        >
          {loading ? 'Loading…' : 'Show more'}
        </button>
      )}
    </section>
  )
}
