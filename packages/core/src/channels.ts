import type { ChannelId } from './types'

/** A platform attribute a channel's metadata fills (for example the X handle). */
export interface PlatformAttributeSpec {
  /** Stable attribute id, also the default alias. */
  readonly id: string
  readonly label: string
  /** Key used for this attribute in CRM requests and responses. */
  readonly alias: string
}

/** One channel of the catalogue and the platform attributes it fills. */
export interface ChannelInfo {
  readonly id: ChannelId
  readonly label: string
  readonly platformAttributes: readonly PlatformAttributeSpec[]
}

/** A platform attribute with every channel it belongs to (shared ones, such as phone number). */
export interface PlatformAttributeInfo extends PlatformAttributeSpec {
  readonly channels: readonly ChannelId[]
}

const spec = (id: string, label: string): PlatformAttributeSpec =>
  Object.freeze({ id, label, alias: id })

// Shared specs are the same object on every channel that lists them, so the catalogue cannot
// drift into two labels for one attribute.
const PHONE_NUMBER = spec('phone_number', 'Phone number')
const EMAIL = spec('email', 'Email')

/**
 * The channel catalogue, in the order channels are presented. Seeded into every new workspace
 * by {@link seedWorkspace}.
 *
 * @example
 * CHANNELS.find((c) => c.id === 'x')?.platformAttributes.map((a) => a.id)
 * // ['x_user_id', 'x_handle', 'x_display_name']
 */
export const CHANNELS: readonly ChannelInfo[] = Object.freeze([
  {
    id: 'x',
    label: 'X',
    platformAttributes: [
      spec('x_user_id', 'X user ID'),
      spec('x_handle', 'X handle'),
      spec('x_display_name', 'X display name'),
    ],
  },
  {
    id: 'instagram',
    label: 'Instagram',
    platformAttributes: [
      spec('instagram_user_id', 'Instagram user ID'),
      spec('instagram_username', 'Instagram username'),
      spec('instagram_name', 'Instagram name'),
    ],
  },
  {
    id: 'facebook',
    label: 'Facebook',
    platformAttributes: [
      spec('facebook_user_id', 'Facebook user ID'),
      spec('facebook_name', 'Facebook name'),
    ],
  },
  {
    id: 'whatsapp',
    label: 'WhatsApp',
    platformAttributes: [PHONE_NUMBER, spec('whatsapp_name', 'WhatsApp name')],
  },
  { id: 'sms', label: 'SMS', platformAttributes: [PHONE_NUMBER] },
  { id: 'email', label: 'Email', platformAttributes: [EMAIL, spec('email_name', 'Email name')] },
  {
    id: 'webchat',
    label: 'Web chat',
    platformAttributes: [
      spec('webchat_visitor_id', 'Web chat visitor ID'),
      spec('webchat_name', 'Web chat name'),
      // Filled when the visitor leaves an address in the pre-chat form.
      EMAIL,
    ],
  },
] satisfies ChannelInfo[])

/** Every channel id, in catalogue order. */
export const CHANNEL_IDS: readonly ChannelId[] = Object.freeze(CHANNELS.map((c) => c.id))

const CHANNEL_SET = new Set<string>(CHANNEL_IDS)

/**
 * Returns true when `value` is a known channel id.
 *
 * @example
 * isChannelId('sms') // true
 * isChannelId('fax') // false
 */
export const isChannelId = (value: unknown): value is ChannelId =>
  typeof value === 'string' && CHANNEL_SET.has(value)

/**
 * Every platform attribute once, with all the channels it belongs to, in catalogue order.
 *
 * @example
 * PLATFORM_ATTRIBUTES.find((a) => a.id === 'phone_number')?.channels // ['whatsapp', 'sms']
 */
export const PLATFORM_ATTRIBUTES: readonly PlatformAttributeInfo[] = Object.freeze(
  (() => {
    const byId = new Map<string, { spec: PlatformAttributeSpec; channels: ChannelId[] }>()
    for (const channel of CHANNELS) {
      for (const attribute of channel.platformAttributes) {
        const entry = byId.get(attribute.id)
        if (entry) entry.channels.push(channel.id)
        else byId.set(attribute.id, { spec: attribute, channels: [channel.id] })
      }
    }
    return [...byId.values()].map(({ spec: s, channels }) =>
      Object.freeze({ ...s, channels: Object.freeze(channels) }),
    )
  })(),
)

/**
 * The ids of the platform attributes a channel fills.
 *
 * @example
 * platformAttributeIdsFor('whatsapp') // ['phone_number', 'whatsapp_name']
 */
export function platformAttributeIdsFor(channel: ChannelId): string[] {
  return CHANNELS.find((c) => c.id === channel)?.platformAttributes.map((a) => a.id) ?? []
}
