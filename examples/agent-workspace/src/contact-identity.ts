import type { ChannelId, IndexedContact } from '@cardfile/core'
import type { ContactField } from '@cardfile/react'

/**
 * Who a contact is, for agents: the person's name and their handle on the channel. Agents work
 * with the real identity; the masked hint is kept for the deletion audit log only, which must
 * not hold personal data once a contact is erased.
 */
export interface ContactIdentity {
  /** The name the channel gives (display name, profile name), or null when it gives none. */
  readonly name: string | null
  /** How to reach or find them on the channel: `@handle`, phone number or email address. */
  readonly handle: string | null
}

/** Platform attribute values by attribute id (as the index rows and documents hold them). */
export type PlatformValues = Readonly<Record<string, string | null | undefined>>

const NAME_KEYS: Readonly<Record<ChannelId, readonly string[]>> = {
  x: ['x_display_name'],
  instagram: ['instagram_name'],
  facebook: ['facebook_name'],
  whatsapp: ['whatsapp_name'],
  sms: [],
  email: ['email_name'],
  webchat: ['webchat_name'],
}

const pick = (values: PlatformValues, keys: readonly string[]): string | null => {
  for (const key of keys) {
    const value = values[key]?.trim()
    if (value !== undefined && value !== '') return value
  }
  return null
}

const atHandle = (handle: string): string => `@${handle.replace(/^@+/, '')}`

function handleOf(channel: ChannelId, platformUserId: string, values: PlatformValues): string {
  switch (channel) {
    case 'x': {
      const handle = pick(values, ['x_handle'])
      return handle === null ? platformUserId : atHandle(handle)
    }
    case 'instagram': {
      const handle = pick(values, ['instagram_username'])
      return handle === null ? platformUserId : atHandle(handle)
    }
    case 'whatsapp':
    case 'sms':
      return pick(values, ['phone_number']) ?? platformUserId
    case 'email':
      return pick(values, ['email']) ?? platformUserId
    case 'webchat':
      return pick(values, ['email']) ?? `visitor ${platformUserId}`
    case 'facebook':
      return platformUserId
  }
}

/**
 * The identity of a channel contact from its platform attribute values.
 *
 * @example
 * identityOf('x', '1480021933', { x_handle: '@anna_kar', x_display_name: 'Anna Karlsson' })
 * // { name: 'Anna Karlsson', handle: '@anna_kar' }
 */
export function identityOf(
  channel: ChannelId,
  platformUserId: string,
  values: PlatformValues,
): ContactIdentity {
  const name = pick(values, NAME_KEYS[channel])
  // Facebook offers no public handle: its numeric id tells an agent nothing.
  const handle =
    channel === 'facebook' && name !== null ? null : handleOf(channel, platformUserId, values)
  return { name, handle }
}

/** What to call the contact in a heading or list: the name, else the handle. */
export const displayName = (identity: ContactIdentity): string =>
  identity.name ?? identity.handle ?? 'Unknown contact'

/**
 * The handle to show under the name, or null when there is nothing more to show (no handle, or
 * no name, so the handle is already the heading).
 */
export const handleUnderName = (identity: ContactIdentity | null): string | null =>
  identity === null || identity.name === null ? null : identity.handle

/**
 * The attribute values an index row carries. The contacts endpoint sends each row's `values`
 * (platform and custom, by attribute id) beside the shared index fields; a row without them
 * still names the contact by its platform user id.
 */
function rowValues(row: IndexedContact): PlatformValues {
  const values: unknown = (row as { readonly values?: unknown }).values
  if (typeof values !== 'object' || values === null) return {}
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') out[key] = value
  }
  return out
}

/** The identity of a contact as the server's index lists it (queues, VIP group, links). */
export const identityOfRow = (row: IndexedContact): ContactIdentity =>
  identityOf(row.channel, row.platformUserId, rowValues(row))

/** The platform values among a contact's panel fields (`useContact`'s `data.fields`). */
export function platformValuesOf(fields: readonly ContactField[]): PlatformValues {
  const values: Record<string, string> = {}
  for (const field of fields) {
    if (field.kind === 'platform' && field.value !== null) values[field.id] = field.value
  }
  return values
}

/**
 * Name and handle on one line ("Anna Karlsson · anna@example.com"), where two contacts of the
 * same person sit side by side and only the handle tells them apart.
 */
export const labelOf = (identity: ContactIdentity): string =>
  identity.name !== null && identity.handle !== null
    ? `${identity.name} · ${identity.handle}`
    : displayName(identity)
