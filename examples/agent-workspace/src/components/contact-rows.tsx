import { useState } from 'react'
import type { ReactNode } from 'react'
import type { IndexedContact } from '@cardfile/core'
import { newestConversation } from '../api'
import { displayName, identityOfRow } from '../contact-identity'
import { humanMessage } from '../human-message'
import { navigate } from '../router'
import { useSession } from '../session-context'
import { ChannelIcon } from './channel-icon'

/**
 * Opens a contact's newest conversation (and with it the contact panel), the way every list of
 * contacts in the inbox does. `problem` says why it could not, for the list to show.
 */
export function useOpenContact(): {
  readonly problem: string | null
  open(contact: IndexedContact): Promise<void>
} {
  const session = useSession()
  const [problem, setProblem] = useState<string | null>(null)
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
  return { problem, open }
}

/** The alert a contact list shows when a contact could not be opened; nothing without one. */
export function OpenProblem({ problem }: { problem: string | null }) {
  if (problem === null) return null
  return (
    <p className="notice error" role="alert">
      {problem}
    </p>
  )
}

/**
 * One contact of a contact list, laid out like a queue item: channel icon, name, VIP tag and
 * `meta` beneath (each list says something else there). `testId` names the list's rows.
 */
export function ContactRow({
  contact,
  selected,
  vip,
  testId,
  onOpen,
  children: meta,
}: {
  contact: IndexedContact
  selected: boolean
  vip: boolean
  testId: string
  onOpen: () => void
  children: ReactNode
}) {
  return (
    <button
      type="button"
      className={`queue-item${selected ? ' selected' : ''}`}
      onClick={onOpen}
      data-testid={testId}
      data-contact-id={contact.id}
      data-channel={contact.channel}
    >
      <ChannelIcon channel={contact.channel} />
      <span className="queue-item-main">
        <span className="queue-item-name">
          <span className="truncate">{displayName(identityOfRow(contact))}</span>
          {vip && <span className="vip-tag">VIP</span>}
        </span>
        <span className="queue-item-meta muted">{meta}</span>
      </span>
    </button>
  )
}

/** The "Show more" of a paged contact list, while the server has more of it. */
export function ShowMoreContacts({
  hasMore,
  loading,
  loadMore,
}: {
  hasMore: boolean
  loading: boolean
  loadMore: () => void
}) {
  if (!hasMore) return null
  return (
    <div className="pad">
      <button type="button" className="button small ghost" onClick={loadMore} disabled={loading}>
        {loading ? 'Loading…' : 'Show more'}
      </button>
    </div>
  )
}
