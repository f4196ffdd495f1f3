import type { ContactGroupResult } from '@cardfile/react'
import { identityOfRow } from '../contact-identity'
import { channelLabel, clockTime } from '../format'
import { humanMessage } from '../human-message'
import { ContactRow, OpenProblem, ShowMoreContacts, useOpenContact } from './contact-rows'

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
  const { problem, open } = useOpenContact()
  const { items, enabled, loading, error, hasMore, loadMore } = group

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
      <OpenProblem problem={problem} />
      {items.length === 0 && !loading && (
        <p className="muted pad">No VIP contacts. Mark one from the contact panel.</p>
      )}
      <ol className="queue-items">
        {items.map((c) => (
          <li key={c.id}>
            <ContactRow
              contact={c}
              selected={c.id === selectedContactId}
              vip
              testId="vip-contact"
              onOpen={() => void open(c)}
            >
              {identityOfRow(c).handle ?? channelLabel(c.channel)} · since {clockTime(c.createdAt)}
            </ContactRow>
          </li>
        ))}
      </ol>
      <ShowMoreContacts hasMore={hasMore} loading={loading} loadMore={loadMore} />
    </section>
  )
}
