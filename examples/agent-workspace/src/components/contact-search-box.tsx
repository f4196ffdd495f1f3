import { useState } from 'react'
import type { IndexedContact } from '@cardfile/core'
import { useContactSearch } from '@cardfile/react'
import { newestConversation } from '../api'
import { displayName, identityOfRow } from '../contact-identity'
import { channelLabel } from '../format'
import { humanMessage } from '../human-message'
import { navigate } from '../router'
import { useSession } from '../session-context'
import { ChannelIcon } from './channel-icon'

/**
 * The inbox's contact search: words typed here (a name, an email, a phone number, a handle or
 * any attribute value) search the server's index with `useContactSearch`; while they are
 * there, the results replace the queue. Picking a contact opens their newest conversation, and
 * with it the contact panel.
 */
export function ContactSearchBox({
  text,
  onText,
  selectedContactId,
}: {
  text: string
  onText: (text: string) => void
  selectedContactId: string | null
}) {
  return (
    <div className="contact-search">
      <input
        type="search"
        className="contact-search-input"
        placeholder="Search contacts"
        aria-label="Search contacts"
        value={text}
        maxLength={200}
        onChange={(e) => onText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onText('')
        }}
        data-testid="contact-search"
      />
      {text.trim() !== '' && (
        <ContactSearchResults text={text} selectedContactId={selectedContactId} />
      )}
    </div>
  )
}

function ContactSearchResults({
  text,
  selectedContactId,
}: {
  text: string
  selectedContactId: string | null
}) {
  const session = useSession()
  const [problem, setProblem] = useState<string | null>(null)
  const { items, loading, stale, error, hasMore, loadMore } = useContactSearch(text)

  const open = async (contact: IndexedContact): Promise<void> => {
    setProblem(null)
    try {
      const newest = await newestConversation(session, contact.id)
      if (newest === null) {
        setProblem(`${displayName(identityOfRow(contact))} has no conversation yet.`)
      } else navigate(`/inbox/${encodeURIComponent(newest.id)}`)
    } catch (e) {
      setProblem(`Couldn't open the conversation. ${humanMessage(e)}`)
    }
  }

  return (
    <section
      className="queue"
      aria-label="Contact search results"
      aria-busy={loading}
      data-testid="contact-search-results"
    >
      <h3 className="queue-title">
        Contacts
        <span className="count">{loading && items.length === 0 ? '…' : items.length}</span>
      </h3>
      {error !== null && (
        <p className="notice error">Couldn&rsquo;t search. {humanMessage(error)}</p>
      )}
      {problem !== null && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {items.length === 0 && !loading && error === null && (
        <p className="muted pad" data-testid="contact-search-empty">
          No contact matches &ldquo;{text.trim()}&rdquo;.
        </p>
      )}
      <ol className={`queue-items${stale ? ' stale' : ''}`}>
        {items.map((c) => {
          const identity = identityOfRow(c)
          return (
            <li key={c.id}>
              <button
                type="button"
                className={`queue-item${c.id === selectedContactId ? ' selected' : ''}`}
                onClick={() => void open(c)}
                data-testid="contact-search-result"
                data-contact-id={c.id}
                data-channel={c.channel}
              >
                <ChannelIcon channel={c.channel} />
                <span className="queue-item-main">
                  <span className="queue-item-name">
                    <span className="truncate">{displayName(identity)}</span>
                    {c.vip && <span className="vip-tag">VIP</span>}
                  </span>
                  <span className="queue-item-meta muted">
                    {identity.name === null
                      ? channelLabel(c.channel)
                      : (identity.handle ?? channelLabel(c.channel))}
                  </span>
                </span>
              </button>
            </li>
          )
        })}
      </ol>
      {hasMore && (
        <div className="pad">
          <button
            type="button"
            className="button small ghost"
            onClick={loadMore}
            disabled={loading}
          >
            {loading ? 'Loading…' : 'Show more'}
          </button>
        </div>
      )}
    </section>
  )
}
