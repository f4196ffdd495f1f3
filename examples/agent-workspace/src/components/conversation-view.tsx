import { useEffect, useRef, useState } from 'react'
import type { ConversationMeta, ConversationStatus } from '@cardfile/core'
import { useContact } from '@cardfile/react'
import type { ContactView } from '@cardfile/react'
import { displayName, handleUnderName } from '../contact-identity'
import { channelLabel, clockTime } from '../format'
import { useContactIdentity } from '../use-contact-identity'
import type { ConversationResult } from '@cardfile/react'
import { ChannelIcon } from './channel-icon'
import { humanMessage } from '../human-message'

/** Labels of the required attributes the contact has no value of, joined ('' for none). */
const missingRequired = (contact: ContactView): string =>
  contact.fields
    .filter(
      (f) =>
        f.kind === 'custom' &&
        f.attribute.rules.required &&
        f.attribute.rules.default === null &&
        (f.value === null || f.value === ''),
    )
    .map((f) => f.label)
    .join(', ')

const STATUSES: readonly { id: ConversationStatus; label: string }[] = [
  { id: 'new', label: 'New' },
  { id: 'pending', label: 'Pending' },
  { id: 'resolved', label: 'Resolved' },
]

interface ConversationViewProps {
  readonly conversation: ConversationResult
  readonly vip: boolean
  readonly onChanged: () => void
}

/** Messages of one conversation, its status, and a reply box. */
export function ConversationView(props: ConversationViewProps) {
  const { meta } = props.conversation
  if (meta === null) {
    return <p className="muted pad">Loading conversation…</p>
  }
  return <LoadedConversation {...props} meta={meta} />
}

function LoadedConversation({
  conversation,
  meta,
  vip,
  onChanged,
}: ConversationViewProps & { readonly meta: ConversationMeta }) {
  const { messages, setStatus, reply } = conversation
  const identity = useContactIdentity(meta.contactId)
  const contactName = identity === null ? 'Contact' : displayName(identity)
  const handle = handleUnderName(identity)
  const [draft, setDraft] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const bottom = useRef<HTMLDivElement>(null)
  // The server refuses to resolve while these are empty; saying so here saves a round trip.
  const missing = useContact(meta.contactId, { select: missingRequired }).data

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: 'end' })
  }, [messages.length])

  const changeStatus = (status: ConversationStatus): void => {
    if (status === 'resolved' && meta.status !== 'resolved' && missing !== '') {
      setProblem(`Fill in ${missing} before resolving the conversation.`)
      return
    }
    const refused = setStatus(status)
    setProblem(refused === null ? null : humanMessage(refused))
    if (refused === null) onChanged()
  }
  const send = (): void => {
    const text = draft.trim()
    if (text === '') return
    const refused = reply(text)
    setProblem(refused === null ? null : humanMessage(refused))
    if (refused === null) {
      setDraft('')
      onChanged()
    }
  }

  return (
    <div className="conversation">
      <header className="conversation-header">
        <div className="conversation-title">
          <ChannelIcon channel={meta.channel} />
          <div>
            <h2>
              <span className="truncate" data-testid="conversation-contact">
                {contactName}
              </span>
              {vip && <span className="vip-tag">VIP</span>}
            </h2>
            <span className="muted">
              {handle !== null && <span data-testid="conversation-handle">{handle} · </span>}
              {channelLabel(meta.channel)} · started {clockTime(meta.createdAt)}
              {meta.team !== null && ` · ${meta.team} team`} · priority{' '}
              {Math.round(meta.priority * 10) / 10}
            </span>
          </div>
        </div>
        <div className="segmented" role="radiogroup" aria-label="Status">
          {STATUSES.map((s) => (
            <button
              key={s.id}
              type="button"
              role="radio"
              aria-checked={meta.status === s.id}
              className={meta.status === s.id ? `selected status-${s.id}` : ''}
              onClick={() => changeStatus(s.id)}
              data-testid={`status-${s.id}`}
            >
              {s.label}
            </button>
          ))}
        </div>
      </header>
      <ol className="messages" aria-label="Messages">
        {messages.map((m) => (
          <li key={m.id} className={`message ${m.direction}`}>
            <div className="bubble">{m.text}</div>
            <div className="message-meta muted">
              {m.direction === 'inbound' ? contactName : m.author.userId} · {clockTime(m.at)}
            </div>
          </li>
        ))}
        <div ref={bottom} />
      </ol>
      {problem !== null && (
        <p className="notice error" role="alert">
          {problem}
        </p>
      )}
      <form
        className="composer"
        onSubmit={(event) => {
          event.preventDefault()
          send()
        }}
      >
        <textarea
          value={draft}
          placeholder={`Reply on ${channelLabel(meta.channel)}…`}
          aria-label="Reply"
          data-testid="reply-box"
          aria-keyshortcuts="r"
          rows={2}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && (event.metaKey || event.ctrlKey)) send()
          }}
        />
        <button type="submit" className="button primary" disabled={draft.trim() === ''}>
          Send
        </button>
      </form>
    </div>
  )
}
