import type { ContactRow, ConversationRow } from '../api'
import { displayName, handleUnderName, identityOfRow } from '../contact-identity'
import { ago, channelLabel, teamLabel } from '../format'
import { ChannelIcon } from './channel-icon'

interface Queue {
  readonly team: string | null
  readonly items: ConversationRow[]
}

/** Groups conversations by team, keeping the server's priority order inside each queue. */
function queuesOf(conversations: readonly ConversationRow[]): Queue[] {
  const queues = new Map<string | null, ConversationRow[]>()
  for (const c of conversations) {
    const list = queues.get(c.team) ?? []
    list.push(c)
    queues.set(c.team, list)
  }
  // Named teams first (the VIP desk above all), the general queue last.
  return [...queues.entries()]
    .map(([team, items]) => ({ team, items }))
    .sort((a, b) => rank(a.team) - rank(b.team) || String(a.team).localeCompare(String(b.team)))
}

const rank = (team: string | null): number => (team === 'vip' ? 0 : team === null ? 2 : 1)

/** How long an open conversation has waited, or when a resolved one was closed. */
const ageOf = (c: ConversationRow): string =>
  c.status === 'resolved'
    ? `resolved ${ago(c.updatedAt)}`
    : `waiting ${ago(c.createdAt).replace(/ ago$/, '')}`

export function QueueList({
  conversations,
  contacts,
  selectedId,
  onSelect,
}: {
  conversations: readonly ConversationRow[]
  contacts: ReadonlyMap<string, ContactRow>
  selectedId: string | null
  onSelect: (id: string) => void
}) {
  const queues = queuesOf(conversations)
  if (queues.length === 0) return <p className="muted pad">Nothing here. Nice work.</p>
  return (
    <div className="queue-groups">
      {queues.map((queue) => (
        <section
          key={queue.team ?? '-'}
          className="queue"
          data-testid="queue"
          data-team={queue.team ?? ''}
        >
          <h3 className="queue-title">
            {teamLabel(queue.team)}
            <span className="count">{queue.items.length}</span>
          </h3>
          <ol className="queue-items">
            {queue.items.map((c) => {
              const contact = contacts.get(c.contactId)
              const identity = contact === undefined ? null : identityOfRow(contact)
              // The handle under the name; the channel when the handle is the name line.
              const secondary = handleUnderName(identity) ?? channelLabel(c.channel)
              return (
                <li key={c.id}>
                  <button
                    type="button"
                    className={`queue-item${c.id === selectedId ? ' selected' : ''}`}
                    onClick={() => onSelect(c.id)}
                    data-testid="queue-item"
                    data-conversation-id={c.id}
                    data-contact-id={c.contactId}
                    data-channel={c.channel}
                    aria-current={c.id === selectedId ? 'true' : undefined}
                  >
                    <ChannelIcon channel={c.channel} />
                    <span className="queue-item-main">
                      <span className="queue-item-name">
                        <span className="truncate" data-testid="queue-item-contact">
                          {identity === null ? 'Unknown contact' : displayName(identity)}
                        </span>
                        {contact?.vip === true && (
                          <span className="vip-tag" data-testid="vip-marker" title="VIP contact">
                            VIP
                          </span>
                        )}
                      </span>
                      <span className="queue-item-meta muted">
                        {secondary} · {ageOf(c)}
                      </span>
                    </span>
                    <span className={`status-pill status-${c.status}`}>{c.status}</span>
                  </button>
                </li>
              )
            })}
          </ol>
        </section>
      ))}
    </div>
  )
}
