import type { ChannelId } from '@cardfile/core'

/**
 * Masked handles ("hints") for contacts. A hint is shown in lists and kept in the deleted-contacts
 * audit record after everything else about a person is erased, so it must let an admin recognise
 * a contact without being personal data on its own: a few leading characters, the last one, and
 * a fixed `***` that hides the length.
 */

const MASK = '***'

/** Splits into code points so that emoji and accented letters are never cut in half. */
const chars = (text: string): string[] => Array.from(text)

/**
 * Masks one word: its first two characters and its last (one character for short words).
 *
 * @example
 * maskWord('anna') // 'an***a'
 * maskWord('bob') // 'b***'
 */
export function maskWord(word: string): string {
  const c = chars(word.trim())
  if (c.length === 0) return MASK
  if (c.length <= 3) return `${c[0]}${MASK}`
  return `${c.slice(0, 2).join('')}${MASK}${c[c.length - 1]}`
}

/**
 * Masks a social handle, keeping its `@`.
 *
 * @example
 * maskHandle('@anna') // '@an***a'
 * maskHandle('anna') // '@an***a'
 */
export function maskHandle(handle: string): string {
  const bare = handle.trim().replace(/^@+/, '')
  return `@${maskWord(bare)}`
}

/**
 * Masks an email address: the start of the local part and of the domain name; the top-level
 * domain stays readable.
 *
 * @example
 * maskEmail('anna@example.com') // 'an***@ex***.com'
 */
export function maskEmail(email: string): string {
  const trimmed = email.trim()
  const at = trimmed.lastIndexOf('@')
  if (at <= 0) return maskWord(trimmed)
  const local = chars(trimmed.slice(0, at))
  const domain = trimmed.slice(at + 1)
  const dot = domain.lastIndexOf('.')
  const host = chars(dot > 0 ? domain.slice(0, dot) : domain)
  const tld = dot > 0 ? domain.slice(dot) : ''
  const start = (c: string[]) => c.slice(0, c.length <= 2 ? 1 : 2).join('')
  return `${start(local)}${MASK}@${start(host)}${MASK}${tld}`
}

/**
 * Masks a phone number down to its last digits (four, or two for very short numbers).
 *
 * @example
 * maskPhone('+44 7700 900123') // '***0123'
 */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '')
  if (digits.length === 0) return MASK
  const keep = digits.length >= 7 ? 4 : Math.min(2, digits.length)
  return `${MASK}${digits.slice(-keep)}`
}

/**
 * Masks a person's name: the first word as a word, the other words as initials.
 *
 * @example
 * maskName('Anna Berg') // 'An***a B.'
 */
export function maskName(name: string): string {
  const [first, ...rest] = name.trim().split(/\s+/)
  if (first === undefined || first === '') return MASK
  const initials = rest.map((word) => `${chars(word)[0] ?? ''}.`)
  return [maskWord(first), ...initials].join(' ')
}

/** What a channel identity offers to build a hint from. */
export interface HintSource {
  readonly platformUserId: string
  /** Platform attribute values from the channel metadata, by attribute id. */
  readonly metadata: Readonly<Record<string, string | undefined>>
}

const present = (value: string | undefined): value is string =>
  value !== undefined && value.trim() !== ''

/**
 * The hint of a channel identity: the most recognisable handle the channel offers, masked.
 * X and Instagram use the handle, phone channels the number, email the address, Facebook and web
 * chat the name (web chat prefers an email address when the visitor gave one).
 *
 * @example
 * maskHint('x', { platformUserId: '123', metadata: { x_handle: '@anna' } }) // '@an***a'
 * maskHint('sms', { platformUserId: '+15550100123', metadata: {} }) // '***0123'
 */
export function maskHint(channel: ChannelId, source: HintSource): string {
  const { platformUserId, metadata } = source
  const pick = (...keys: string[]): string | undefined => keys.map((k) => metadata[k]).find(present)
  switch (channel) {
    case 'x': {
      const handle = pick('x_handle')
      if (handle !== undefined) return maskHandle(handle)
      const name = pick('x_display_name')
      return name !== undefined ? maskName(name) : maskWord(platformUserId)
    }
    case 'instagram': {
      const handle = pick('instagram_username')
      if (handle !== undefined) return maskHandle(handle)
      const name = pick('instagram_name')
      return name !== undefined ? maskName(name) : maskWord(platformUserId)
    }
    case 'facebook': {
      const name = pick('facebook_name')
      return name !== undefined ? maskName(name) : maskWord(platformUserId)
    }
    case 'whatsapp':
    case 'sms':
      return maskPhone(pick('phone_number') ?? platformUserId)
    case 'email':
      return maskEmail(pick('email') ?? platformUserId)
    case 'webchat': {
      const email = pick('email')
      if (email !== undefined) return maskEmail(email)
      const name = pick('webchat_name')
      return name !== undefined ? maskName(name) : `visitor ${maskWord(platformUserId)}`
    }
  }
}
