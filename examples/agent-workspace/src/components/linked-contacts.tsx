import type { LinkedContactsResult } from '@cardfile/react'
import { channelLabel, clockTime } from '../format'
import { ChannelIcon } from './channel-icon'

/**
 * The contacts linked to this one on other channels (same value of the matching attribute, or
 * linked by hand), from `useLinkedContacts`, called by the panel (see there why).
 */
export function LinkedContacts({ linked }: { linked: LinkedContactsResult }) {
  const { items, hasMore, loading, error, loadMore, truncated, records } = linked
  const manual = records.filter((r) => r.kind === 'link').length
  return (
    <section aria-label="Linked contacts">
      <h3 className="panel-section">
        Linked contacts
        {items.length > 0 && (
          <span className="count">{Math.max(linked.size - 1, items.length)}</span>
        )}
      </h3>
      {error !== null && (
        <p className="notice error" role="alert">
          Could not load the linked contacts: {error.message}
        </p>
      )}
      {items.length === 0 && !loading && error === null && (
        <p className="muted small" data-testid="linked-none">
          Not linked to a contact on another channel.
        </p>
      )}
      <ul className="linked" data-testid="linked-contacts">
        {items.map((c) => (
          <li
            key={c.id}
            className="linked-item"
            data-testid="linked-contact"
            data-contact-id={c.id}
            data-channel={c.channel}
          >
            <ChannelIcon channel={c.channel} />
            <span className="linked-item-main">
              <span className="linked-item-hint">
                {c.hint}
                {c.vip && <span className="vip-tag">VIP</span>}
              </span>
              <span className="muted">
                {channelLabel(c.channel)} · since {clockTime(c.createdAt)}
              </span>
            </span>
          </li>
        ))}
      </ul>
      {hasMore && (
        <button
          type="button"
          className="button small ghost show-more"
          onClick={loadMore}
          disabled={loading}
        >
          {loading ? 'Loading…' : 'Show more'}
        </button>
      )}
      {(truncated || manual > 0) && (
        <p className="muted small linked-note">
          {manual > 0 && `${manual} linked by hand. `}
          {truncated && 'Too many contacts share this value: only the first are linked.'}
        </p>
      )}
    </section>
  )
}
