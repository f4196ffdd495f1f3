import type { AttributeDefinition, ChannelId } from '@cardfile/core'
import { contactAccess, schemaAccess } from './access'
import { useCardfileClient } from './context'
import { suspendUntilLoaded } from './suspend'
import { useAttributes } from './use-attributes'
import type { AttributesResult, UseAttributesOptions } from './use-attributes'
import { useContact } from './use-contact'
import type { ContactResult, ContactView, UseContactOptions } from './use-contact'

/** What {@link useContactSuspense} returns: a loaded contact, so `found` is known. */
export interface SuspenseContactResult<T> extends Omit<ContactResult<T>, 'found'> {
  /** Whether the contact exists (false: the server has no such contact). */
  readonly found: boolean
}

/**
 * {@link useContact} for Suspense: suspends until the contact and its schema have loaded (from
 * the device's copy or the server), so the component renders with data at once. Throws a
 * CardfileError to the nearest error boundary when the contact cannot load on its own
 * (`deleted`, `unauthorized` or `token-expired` for a refused token, `forbidden`); refused edits
 * are not failures and stay in `error`.
 *
 * @example
 * function Panel({ contactId }: { contactId: string }) {
 *   const { data } = useContactSuspense(contactId)
 *   return <h2>{data.profile?.hint}</h2>
 * }
 *
 * <ErrorBoundary fallback={<p>This contact cannot be shown</p>}>
 *   <Suspense fallback={<Skeleton />}>
 *     <Panel contactId="c1" />
 *   </Suspense>
 * </ErrorBoundary>
 */
export function useContactSuspense<T>(
  id: string,
  options: UseContactOptions<T> & { readonly select: (contact: ContactView) => T },
): SuspenseContactResult<T>
export function useContactSuspense(
  id: string,
  options?: { readonly channel?: ChannelId },
): SuspenseContactResult<ContactView>
export function useContactSuspense<T>(
  id: string,
  options: UseContactOptions<T> = {},
): SuspenseContactResult<T | ContactView> {
  const client = useCardfileClient()
  suspendUntilLoaded(client, contactAccess(client.workspace, id))
  const result = useContact(id, options as UseContactOptions<T | ContactView>)
  return { ...result, found: result.found === true }
}

/**
 * {@link useAttributes} for Suspense: suspends until the workspace schema has loaded (from the
 * device's copy or the server) and throws a CardfileError to the nearest error boundary when
 * it cannot load on its own (for example a refused token).
 *
 * @example
 * function Labels() {
 *   const { attributes } = useAttributesSuspense()
 *   return <ul>{attributes.map((a) => <li key={a.id}>{a.label}</li>)}</ul>
 * }
 */
export function useAttributesSuspense<T>(
  options: UseAttributesOptions<T> & { readonly select: (a: readonly AttributeDefinition[]) => T },
): AttributesResult<T>
export function useAttributesSuspense(options?: {
  readonly channel?: ChannelId
}): AttributesResult<readonly AttributeDefinition[]>
export function useAttributesSuspense<T>(
  options: UseAttributesOptions<T> = {},
): AttributesResult<T | readonly AttributeDefinition[]> {
  const client = useCardfileClient()
  suspendUntilLoaded(client, schemaAccess(client.workspace))
  return useAttributes(options as UseAttributesOptions<T | readonly AttributeDefinition[]>)
}
