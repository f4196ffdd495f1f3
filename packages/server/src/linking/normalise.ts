/**
 * Normalisation of matching-attribute values. Two contacts link when their values of the
 * workspace's matching attribute are equal after this normalisation, so it decides which
 * spellings count as "the same person": ` Ana@Example.org` and `ana@example.org` do, and so do
 * `+44 (0)20 7946 0018` and `0044 20 7946 0018`.
 */

/** Longest E.164 number: 15 digits after the `+`. */
const E164_MAX_DIGITS = 15
/** Shortest number worth treating as a phone number (shorter ones are codes, not numbers). */
const PHONE_MIN_DIGITS = 7

/** Characters people put in phone numbers besides digits. */
const PHONE_SHAPE = /^\+?[\d\s().\-/]+$/
/** One `@` with something on either side and no whitespace: how email addresses look. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/

/**
 * Normalises a phone number to E.164 (`+` and 8..15 digits) when it is written with its country
 * code (`+44 20 7946 0018`, `0044 20 7946 0018`, `+44 (0)20 7946 0018`). A national number
 * (`020 7946 0018`) names no country, so it is reduced to its digits: it matches the same
 * national number however it is spelled, never an international one. Null when `value` does
 * not look like a phone number.
 *
 * @example
 * normalisePhone('+1 (415) 555-0100') // '+14155550100'
 * normalisePhone('00 33 1 23 45 67 89') // '+33123456789'
 * normalisePhone('hello') // null
 */
export function normalisePhone(value: string): string | null {
  const v = value.trim()
  if (!PHONE_SHAPE.test(v)) return null
  // Parentheses must balance, or this is some other notation ("1) 2" is not a number).
  if ((v.match(/\(/g) ?? []).length !== (v.match(/\)/g) ?? []).length) return null
  let international = false
  let rest = v
  if (rest.startsWith('+')) {
    international = true
    rest = rest.slice(1)
  } else if (/^00\s*[1-9]/.test(rest)) {
    // The international call prefix used across most of the world.
    international = true
    rest = rest.replace(/^00/, '')
  }
  // "+44 (0)20": the trunk zero in parentheses is dialled only inside the country.
  if (international) rest = rest.replace(/\(\s*0\s*\)/g, '')
  const digits = rest.replace(/\D/g, '')
  if (digits.length < PHONE_MIN_DIGITS || digits.length > E164_MAX_DIGITS) return null
  if (!international) return digits
  // Country codes never start with 0.
  if (digits.startsWith('0')) return null
  return `+${digits}`
}

/**
 * True when `value` looks like an email address (one `@`, no whitespace, a dot-free local part
 * is fine). Such values compare case-insensitively.
 */
export const isEmailLike = (value: string): boolean => EMAIL_SHAPE.test(value)

/**
 * Normalises a matching value: trimmed (and Unicode NFC, so composed and decomposed accents
 * match); email-like values lowercased; phone numbers in E.164 where the country code is
 * written. Anything else keeps its case: `ACME-1` and `acme-1` are different customer numbers.
 * Empty and non-string values match nothing (null).
 *
 * @example
 * normaliseMatchValue('  Ana@Example.ORG ') // 'ana@example.org'
 * normaliseMatchValue('+44 (0)20 7946 0018') // '+442079460018'
 * normaliseMatchValue('   ') // null
 */
export function normaliseMatchValue(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const v = value.normalize('NFC').trim()
  if (v.length === 0) return null
  if (isEmailLike(v)) return v.toLowerCase()
  return normalisePhone(v) ?? v
}
