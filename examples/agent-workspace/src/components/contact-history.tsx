import { useCallback } from 'react'
import { listContactConversations } from '../api'
import { channelLabel, clockTime } from '../format'
import { navigate } from '../router'
import { useSession } from '../session-context'
import { usePolled } from '../use-polled'
import { ChannelIcon } from './channel-icon'

/** The contact's conversations, newest first. */
export function ContactHistory({ contactId }: { contactId: string }) {
  const session = useSession()
  const load = useCallback(() => listContactConversations(session, contactId), [session, contactId])
  const { data } = usePolled(`history:${contactId}`, load, 5000)
  if (data === null || data.length === 0) return null
  return (
    <>
      <h3 className="panel-section">Conversation history</h3>
      <ol className="history" data-testid="history">
        {data.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className="history-item"
              onClick={() => navigate(`/inbox/${encodeURIComponent(c.id)}`)}
            >
              <ChannelIcon channel={c.channel} />
              <span>{channelLabel(c.channel)}</span>
              <span className="muted">{clockTime(c.createdAt)}</span>
              <span className={`status-pill status-${c.status}`}>{c.status}</span>
            </button>
          </li>
        ))}
      </ol>
    </>
  )
}
