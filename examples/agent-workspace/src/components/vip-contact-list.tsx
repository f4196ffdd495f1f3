import { useState } from 'react'
import type { ContactGroupResult, IndexedContact } from '@cardfile/react'
import { newestConversation } from '../api'
import { displayName, identityOfRow } from '../contact-identity'
import { channelLabel, clockTime } from '../format'
import { navigate } from '../router'
import { useSession } from '../session-context'
import { ChannelIcon } from './channel-icon'
import { humanMessage } from '../human-message'

/**
 * The VIP contact group (`useContactGroup('vip')`, newest first, live), as a list view of the
 * inbox. Picking a contact opens their newest conversation.
 */
export function VipContactList({
  group,
  selectedContactId,
}: {
  group: ContactGroupResult
  selectedContactId: string | null
}) {
  const session = useSession()
  const [problem, setProblem] = useState<string | null>(null)
  const { items, enabled, loading, error, hasMore, loadMore } = group

  const open = async (contact: IndexedContact): Promise<void> => {
    setProblem(null)
    try {
      const newest = await newestConversation(session, contact.id)
      if (newest === null)
        setProblem(`${displayName(identityOfRow(contact))} has no conversation yet.`)
      else navigate(`/inbox/${encodeURIComponent(newest.id)}`)
    } catch (e) {
      setProblem(`Couldn't open the conversation. ${humanMessage(e)}`)
    }
  }

  if (!enabled) return <p className="muted pad">VIP is switched off in this workspace.</p>
  return (
    <section className="queue" data-testid="vip-contacts" aria-label="VIP contacts">
      <h3 className="queue-title">
        VIP contacts
        <span className="count">{items.length}</span>
      </h3>
      {error !== null && (
        <p className="notice error">Couldn&rsquo;t load the VIP contacts. {humanMessage(error)}</p>
      )}
      {problem !== null && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      {items.length === 0 && !loading && (
        <p className="muted pad">No VIP contacts. Mark one from the contact panel.</p>
      )}
      <ol className="queue-items">
        {items.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className={`queue-item${c.id === selectedContactId ? ' selected' : ''}`}
              onClick={() => void open(c)}
              data-testid="vip-contact"
              data-contact-id={c.id}
              data-channel={c.channel}
            >
              <ChannelIcon channel={c.channel} />
              <span className="queue-item-main">
                <span className="queue-item-name">
                  <span className="truncate">{displayName(identityOfRow(c))}</span>
                  <span className="vip-tag">VIP</span>
                </span>
                <span className="queue-item-meta muted">
                  {identityOfRow(c).handle ?? channelLabel(c.channel)} · since{' '}
                  {clockTime(c.createdAt)}
                </span>
              </span>
            </button>
          </li>
        ))}
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
