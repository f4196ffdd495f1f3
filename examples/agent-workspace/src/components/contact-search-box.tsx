import { useContactSearch } from '@cardfile/react'
import { identityOfRow } from '../contact-identity'
import { channelLabel } from '../format'
import { humanMessage } from '../human-message'
import { ContactRow, OpenProblem, ShowMoreContacts, useOpenContact } from './contact-rows'

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
  const { problem, open } = useOpenContact()
  const { items, loading, stale, error, hasMore, loadMore } = useContactSearch(text)

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
      <OpenProblem problem={problem} />
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
              <ContactRow
                contact={c}
                selected={c.id === selectedContactId}
                vip={c.vip}
                testId="contact-search-result"
                onOpen={() => void open(c)}
              >
                {identity.name === null
                  ? channelLabel(c.channel)
                  : (identity.handle ?? channelLabel(c.channel))}
              </ContactRow>
            </li>
          )
        })}
      </ol>
      <ShowMoreContacts hasMore={hasMore} loading={loading} loadMore={loadMore} />
    </section>
  )
}
