import { useId, useState } from 'react'
import type { ContactLinksResult } from '@cardfile/react'
import { useContactGroup, useContactLinks, useLinkedContacts } from '@cardfile/react'
import { displayName, identityOfRow, labelOf } from '../contact-identity'
import { channelLabel, clockTime } from '../format'
import { ChannelIcon } from './channel-icon'
import { humanMessage } from '../human-message'

/**
 * Links this contact to another by hand: paste a contact id, or pick a VIP contact from the
 * suggestions. Shown when the agent asks for it, so the VIP list is only fetched then.
 */
function LinkForm({
  contactId,
  links,
  onDone,
}: {
  contactId: string
  links: ContactLinksResult
  onDone: () => void
}) {
  const [other, setOther] = useState('')
  const vips = useContactGroup('vip', { pageSize: 50 })
  const listId = useId()
  const target = other.trim()
  return (
    <form
      className="link-form"
      data-testid="link-form"
      onSubmit={(event) => {
        event.preventDefault()
        if (target === '') return
        links.link(target).then(onDone, () => undefined)
      }}
    >
      <input
        value={other}
        onChange={(e) => setOther(e.target.value)}
        list={listId}
        placeholder="Contact id (or pick a VIP)"
        aria-label="Contact to link"
        data-testid="link-input"
        autoFocus
      />
      <datalist id={listId}>
        {vips.items
          .filter((c) => c.id !== contactId)
          .map((c) => (
            <option key={c.id} value={c.id}>
              {`${labelOf(identityOfRow(c))} · ${channelLabel(c.channel)}`}
            </option>
          ))}
      </datalist>
      <button
        type="submit"
        className="button small primary"
        disabled={links.pending || target === ''}
        data-testid="link-submit"
      >
        Link
      </button>
      <button type="button" className="button small ghost" onClick={onDone}>
        Cancel
      </button>
    </form>
  )
}

/**
 * The contacts linked to this one on other channels (same value of the matching attribute, or
 * linked by hand), from `useLinkedContacts`; an agent unlinks a wrong one, or links another by
 * hand (`useContactLinks`), and every list on the screen follows at once.
 */
export function LinkedContacts({ contactId }: { contactId: string }) {
  const linked = useLinkedContacts(contactId)
  // The panel links and unlinks; it does not show the log.
  const links = useContactLinks(contactId, { log: false })
  const [linking, setLinking] = useState(false)
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
          Couldn&rsquo;t load the linked contacts. {humanMessage(error)}
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
                {labelOf(identityOfRow(c))}
                {c.vip && <span className="vip-tag">VIP</span>}
              </span>
              <span className="muted">
                {channelLabel(c.channel)} · since {clockTime(c.createdAt)}
              </span>
            </span>
            {links.canLink && (
              <button
                type="button"
                className="button small ghost unlink"
                disabled={links.pending}
                title={`${displayName(identityOfRow(c))} is not the same person: unlink`}
                data-testid="unlink-contact"
                onClick={() => {
                  links.unlink(c.id).catch(() => undefined)
                }}
              >
                Unlink
              </button>
            )}
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
      {links.canLink &&
        (linking ? (
          <LinkForm contactId={contactId} links={links} onDone={() => setLinking(false)} />
        ) : (
          <button
            type="button"
            className="button small ghost"
            onClick={() => setLinking(true)}
            data-testid="link-contact"
          >
            Link a contact…
          </button>
        ))}
      {links.error !== null && (
        <p className="field-error" role="alert" data-testid="link-error">
          {humanMessage(links.error)}
        </p>
      )}
    </section>
  )
}
