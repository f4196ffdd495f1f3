import { useContact } from '@cardfile/react'
import { identityOf, platformValuesOf } from './contact-identity'
import type { ContactIdentity } from './contact-identity'

/**
 * The identity of a contact read from its live document (cached on this device, so it shows
 * offline too); null while the document loads.
 *
 * @example
 * const identity = useContactIdentity(contactId)
 * return <h2>{identity === null ? 'Loading…' : displayName(identity)}</h2>
 */
export function useContactIdentity(contactId: string): ContactIdentity | null {
  const { data } = useContact(contactId, {
    select: (contact) =>
      contact.profile === null
        ? null
        : identityOf(
            contact.profile.channel,
            contact.profile.platformUserId,
            platformValuesOf(contact.fields),
          ),
  })
  return data ?? null
}
